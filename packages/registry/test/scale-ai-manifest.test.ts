// Tests over the real Scale AI manifest (integrations/scale-ai/manifest.json) and the fixtures written from the
// product page (test/fixtures/scale-ai/*.json): every action is there, every example passes, every invalid input
// fails for its stated reason, every tool export passes the vendors' rules, and the issue's "done when" holds.
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { loadRegistry, TOOL_FORMATS, toolRuleViolations } from "@nagent/registry";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const INTEGRATIONS = `${ROOT}integrations`;
const MANIFEST = `${INTEGRATIONS}/scale-ai/manifest.json`;
const INVALID_INPUTS = `${ROOT}test/fixtures/scale-ai/invalid-inputs.json`;
const PRODUCT_PAGE = `${ROOT}test/fixtures/scale-ai/product-page-actions.json`;

interface InvalidInput {
  action: string;
  why?: string;
  input: unknown;
  expect: { keyword: string; path: string };
}
interface ProductPageAction {
  slug: string;
  description: string;
  parameters: string[];
}

describe.runIf(existsSync(MANIFEST))("the Scale AI manifest", () => {
  const registry = loadRegistry(INTEGRATIONS);
  const slugs = registry.listActions({ integration: "scale_ai", limit: 100 }).actions.map((a) => a.slug);
  const manifest = JSON.parse(readFileSync(MANIFEST, "utf8")) as { actions: { slug: string; input: { properties: object; examples: unknown[] } }[] };

  it("is the scale_ai integration with 40 actions and a secret api_key", () => {
    expect(registry.listIntegrations().find((i) => i.slug === "scale_ai")).toMatchObject({ name: "Scale AI", actions_count: 40 });
    expect(registry.secretFields("scale_ai")).toEqual(["api_key"]);
  });

  describe.runIf(existsSync(PRODUCT_PAGE))("against the product page", () => {
    const page = JSON.parse(readFileSync(PRODUCT_PAGE, "utf8")) as ProductPageAction[];

    it("has exactly the product page's 40 slugs", () => {
      expect([...slugs].sort()).toEqual(page.map((a) => a.slug).sort());
      expect(slugs).toHaveLength(40);
    });

    it.each(page.map((a) => [a.slug, a] as const))("%s has the page's description and one input property per parameter", (slug, action) => {
      const entry = manifest.actions.find((a) => a.slug === slug)!;
      const properties = Object.values(entry.input.properties) as { description: string }[];
      expect(properties).toHaveLength(action.parameters.length);
      expect(properties.map((p) => p.description).sort()).toEqual([...action.parameters].sort());
      expect(registry.getAction(slug)?.description).toBe(action.description);
    });
  });

  it.each(manifest.actions.map((a) => [a.slug, a.input.examples] as const))("%s: every example is valid", (slug, examples) => {
    expect(examples.length).toBeGreaterThan(0);
    for (const example of examples) expect(registry.validateInput(slug, example)).toEqual({ valid: true });
  });

  describe.runIf(existsSync(INVALID_INPUTS))("invalid inputs", () => {
    const cases = JSON.parse(readFileSync(INVALID_INPUTS, "utf8")) as InvalidInput[];

    it("cover every action", () => {
      expect(new Set(cases.map((c) => c.action))).toEqual(new Set(slugs));
    });

    it.each(cases.map((c) => [c.action, c.why ?? c.expect.keyword, c] as const))("%s refuses: %s", (_slug, _why, c) => {
      const result = registry.validateInput(c.action, c.input);
      expect(result.valid).toBe(false);
      if (result.valid) return;
      // The fixture's `path` is the API's pointer: for `required` and `additionalProperties`, the missing or the
      // unexpected property itself.
      const found = result.errors.map((e) => ({ keyword: e.keyword, path: e.path }));
      expect(found).toContainEqual(c.expect);
    });
  });

  it.each(slugs.flatMap((slug) => TOOL_FORMATS.map((format) => [slug, format] as const)))("%s exports as a valid %s tool", (slug, format) => {
    expect(toolRuleViolations(registry.toTool(slug, format), format)).toEqual([]);
  });

  describe("done when", () => {
    it("POST /v1/actions/SCALE_AI_CREATE_BATCH/validate names the missing name, then accepts name and project", () => {
      expect(registry.validateInput("SCALE_AI_CREATE_BATCH", { project: "p" })).toEqual({
        valid: false,
        errors: [{ path: "/name", keyword: "required", message: "name is required" }],
      });
      expect(registry.validateInput("SCALE_AI_CREATE_BATCH", { name: "b", project: "p" })).toEqual({ valid: true });
    });

    const create = { id: "b1", action: "SCALE_AI_CREATE_BATCH", input: { name: "b", project: "p" } };

    it("a flow feeding steps.b1.data.name into SCALE_AI_FINALIZE_BATCH's batch name is valid", () => {
      expect(registry.checkFlow([create, { id: "f1", action: "SCALE_AI_FINALIZE_BATCH", input: { batch_name: { $ref: "steps.b1.data.name" } } }])).toEqual({
        valid: true,
        errors: [],
        warnings: [],
      });
    });

    it("a number-typed path or a missing path is reported", () => {
      const result = registry.checkFlow([
        create,
        { id: "f1", action: "SCALE_AI_FINALIZE_BATCH", input: { batch_name: { $ref: "steps.b1.data.pending" } } },
        { id: "f2", action: "SCALE_AI_FINALIZE_BATCH", input: { batch_name: { $ref: "steps.b1.data.no_such_field" } } },
      ]);
      expect(result.valid).toBe(false);
      expect(result.errors).toEqual([
        { step: "f1", path: "/batch_name", message: "steps.b1.data.pending is integer, but batch_name expects string" },
        { step: "f2", path: "/batch_name", message: expect.stringMatching(/^data\.no_such_field is not in the output of SCALE_AI_CREATE_BATCH/) },
      ]);
    });
  });
});
