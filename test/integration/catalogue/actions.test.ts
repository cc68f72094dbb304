import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_PAGE_SIZE, TOOL_FORMATS, toolRuleViolations } from "@nagent/registry";
import { createTestAppWithWorkspace, type TestApp } from "../../support/app";

let t: TestApp;
let key: { authorization: string };
beforeAll(async () => ({ t, key } = await createTestAppWithWorkspace()));
afterAll(() => t.close());

const get = (url: string) => t.app.inject({ method: "GET", url, headers: key });
const allSlugs = () => t.deps.registry.getIntegration("scale_ai")!.actions.map((a) => a.slug).sort();

describe("GET /v1/actions", () => {
  it("pages through all 40 actions with cursors, in slug order, each once", async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await get(`/v1/actions?integration=scale_ai&limit=7${cursor ? `&cursor=${cursor}` : ""}`);
      expect(res.statusCode).toBe(200);
      const body = res.json() as { actions: { slug: string }[]; next_cursor: string | null };
      expect(body.actions.length).toBeLessThanOrEqual(7);
      seen.push(...body.actions.map((a) => a.slug));
      cursor = body.next_cursor;
      pages++;
    } while (cursor !== null && pages < 20);
    expect(pages).toBe(6);
    expect(seen).toEqual(allSlugs());
  });

  it("answers 20 by default, up to 100 in one page, and the fields of a summary", async () => {
    const first = await get("/v1/actions");
    expect(first.json().actions).toHaveLength(20);
    expect(first.json().next_cursor).toEqual(expect.any(String));
    expect(first.json().actions[0]).toEqual({ slug: "SCALE_AI_ADD_STUDIO_ASSIGNMENTS", integration: "scale_ai", name: expect.any(String), description: expect.any(String), group: expect.any(String) });
    const all = await get(`/v1/actions?limit=${MAX_PAGE_SIZE}`);
    expect(all.json().actions).toHaveLength(40);
    expect(all.json().next_cursor).toBeNull();
  });

  it("searches slug, name and description with every word", async () => {
    const found = (await get("/v1/actions?q=create%20batch&limit=100")).json().actions as { slug: string; name: string; description: string }[];
    expect(found.map((a) => a.slug)).toContain("SCALE_AI_CREATE_BATCH");
    expect(found.length).toBeLessThan(40);
    for (const a of found) expect(`${a.slug.replace(/_/g, " ")} ${a.name} ${a.description}`.toLowerCase(), a.slug).toMatch(/create[\s\S]*batch|batch[\s\S]*create/);
    const bySlug = (await get("/v1/actions?q=SCALE_AI_FINALIZE_BATCH")).json().actions.map((a: { slug: string }) => a.slug);
    expect(bySlug).toEqual(["SCALE_AI_FINALIZE_BATCH"]);
    const byDescription = (await get(`/v1/actions?q=${encodeURIComponent("ontology")}&limit=100`)).json().actions.map((a: { slug: string }) => a.slug);
    expect(byDescription).toContain("SCALE_AI_SET_PROJECT_ONTOLOGY");
    const none = await get("/v1/actions?q=zzzz%20nothing%20matches");
    expect(none.json()).toEqual({ actions: [], next_cursor: null });
  });

  it("keeps the filter across pages of a search", async () => {
    const q = "batch";
    const expected = (await get(`/v1/actions?q=${q}&limit=100`)).json().actions.map((a: { slug: string }) => a.slug);
    expect(expected.length).toBeGreaterThan(2);
    const first = (await get(`/v1/actions?q=${q}&limit=2`)).json();
    const rest = (await get(`/v1/actions?q=${q}&limit=100&cursor=${first.next_cursor}`)).json();
    expect([...first.actions, ...rest.actions].map((a: { slug: string }) => a.slug)).toEqual(expected);
  });

  it("answers 400 INVALID_CURSOR for a cursor it did not issue", async () => {
    for (const cursor of ["nope", Buffer.from('{"b":1}').toString("base64url"), "!!"]) {
      const res = await get(`/v1/actions?cursor=${encodeURIComponent(cursor)}`);
      expect(res.statusCode, cursor).toBe(400);
      expect(res.json().error.code, cursor).toBe("INVALID_CURSOR");
    }
  });

  it("answers 404 for an unknown integration filter and 400 for out-of-bounds queries", async () => {
    const unknown = await get("/v1/actions?integration=nope");
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.code).toBe("NOT_FOUND");
    for (const query of ["limit=0", "limit=101", "limit=abc", `q=${"x".repeat(201)}`, `cursor=${"a".repeat(513)}`, "other=1"]) {
      const res = await get(`/v1/actions?${query}`);
      expect(res.statusCode, query).toBe(400);
      expect(res.json().error.code, query).toBe("VALIDATION_FAILED");
    }
  });

  it("needs a workspace key on every catalogue route", async () => {
    const routes: [string, string][] = [
      ["GET", "/v1/actions"],
      ["GET", "/v1/actions/SCALE_AI_CREATE_BATCH"],
      ["GET", "/v1/actions/SCALE_AI_CREATE_BATCH/versions"],
      ["GET", "/v1/actions/SCALE_AI_CREATE_BATCH/tool?format=openai"],
      ["POST", "/v1/actions/SCALE_AI_CREATE_BATCH/validate"],
      ["POST", "/v1/flows/check"],
    ];
    for (const [method, url] of routes) {
      const res = await t.app.inject({ method: method as "GET" | "POST", url, ...(method === "POST" ? { payload: { input: {} } } : {}) });
      expect(res.statusCode, url).toBe(401);
      expect(res.json().error.code, url).toBe("UNAUTHORIZED");
    }
  });
});

describe("GET /v1/actions/:slug", () => {
  it("answers every action with its schemas exactly as the registry holds them (no keyword stripped)", async () => {
    for (const slug of allSlugs()) {
      const res = await get(`/v1/actions/${slug}`);
      expect(res.statusCode, slug).toBe(200);
      const current = t.deps.registry.getAction(slug)!;
      expect(res.json(), slug).toEqual({
        action: {
          slug, integration: "scale_ai", name: current.name, description: current.description, group: current.group,
          input_schema: current.input_schema, output_schema: current.output_schema, schema_version: 1,
        },
      });
    }
    // Spot-check keywords a typed response schema would drop.
    const batch = (await get("/v1/actions/SCALE_AI_CREATE_BATCH")).json().action;
    expect(batch.input_schema).toMatchObject({ additionalProperties: false, required: ["name", "project"], examples: expect.any(Array) });
    expect(batch.output_schema).toMatchObject({ $ref: "#/$defs/Batch", $defs: { Batch: expect.objectContaining({ required: expect.any(Array) }) } });
  });

  it("answers 404 NOT_FOUND for an unknown action and a version it never had", async () => {
    for (const url of ["/v1/actions/SCALE_AI_NOPE", "/v1/actions/nope", "/v1/actions/SCALE_AI_CREATE_BATCH?version=2"]) {
      const res = await get(url);
      expect(res.statusCode, url).toBe(404);
      expect(res.json().error.code).toBe("NOT_FOUND");
    }
    for (const url of ["/v1/actions/SCALE_AI_CREATE_BATCH?version=0", "/v1/actions/SCALE_AI_CREATE_BATCH?version=x", "/v1/actions/SCALE_AI_CREATE_BATCH?version=2147483648"]) {
      expect((await get(url)).statusCode, url).toBe(400);
    }
    // Fastify refuses path parameters over 100 characters before routing; the answer is still our envelope.
    const long = await get(`/v1/actions/${"A".repeat(129)}`);
    expect(long.statusCode).toBe(414);
    expect(long.json()).toMatchObject({ error: { code: "URI_TOO_LONG" }, request_id: expect.any(String) });
  });
});

describe("POST /v1/actions/:slug/validate", () => {
  const validate = (slug: string, payload: unknown) => t.app.inject({ method: "POST", url: `/v1/actions/${slug}/validate`, headers: key, payload: payload as object });

  it("done when: names the missing name, then accepts name and project", async () => {
    const missing = await validate("SCALE_AI_CREATE_BATCH", { input: { project: "p" } });
    expect(missing.statusCode).toBe(200);
    expect(missing.json()).toEqual({ valid: false, errors: [{ path: "/name", keyword: "required", message: "name is required" }] });
    const ok = await validate("SCALE_AI_CREATE_BATCH", { input: { name: "b", project: "p" } });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ valid: true });
  });

  it("reports every problem with a pointer, a keyword and a sentence", async () => {
    const res = await validate("SCALE_AI_CREATE_BATCH", { input: { name: "", project: 5, colour: "red" } });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.valid).toBe(false);
    expect(body.errors).toEqual(expect.arrayContaining([
      { path: "/name", keyword: "minLength", message: "name must not be empty" },
      { path: "/project", keyword: "type", message: "project must be a string" },
      { path: "/colour", keyword: "additionalProperties", message: "colour is not an allowed property" },
    ]));
    expect(body.errors).toHaveLength(3);
  });

  it("refuses every invalid input of the fixture for its stated reason, at the fixture's pointer", async () => {
    const cases = JSON.parse(readFileSync(new URL("../../fixtures/scale-ai/invalid-inputs.json", import.meta.url), "utf8")) as { action: string; input: unknown; expect: { keyword: string; path: string } }[];
    expect(new Set(cases.map((c) => c.action)).size).toBe(40);
    for (const c of cases) {
      const res = await validate(c.action, { input: c.input });
      expect(res.statusCode, c.action).toBe(200);
      const body = res.json() as { valid: boolean; errors: { path: string; keyword: string; message: string }[] };
      expect(body.valid, c.action).toBe(false);
      expect(body.errors.map(({ keyword, path }) => ({ keyword, path })), `${c.action} ${JSON.stringify(c.expect)}`).toContainEqual(c.expect);
    }
  });

  it("answers 404 for an unknown action and 400 for an input that is not a bounded object", async () => {
    const unknown = await validate("SCALE_AI_NOPE", { input: {} });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.code).toBe("NOT_FOUND");
    const tooMany = Object.fromEntries(Array.from({ length: 201 }, (_, i) => [`p${i}`, i]));
    for (const payload of [{}, { input: "x" }, { input: [] }, { input: {}, extra: 1 }, { input: tooMany }, { input: { ["k".repeat(129)]: 1 } }]) {
      const res = await validate("SCALE_AI_CREATE_BATCH", payload);
      expect(res.statusCode, JSON.stringify(payload).slice(0, 80)).toBe(400);
      expect(res.json().error.code).toBe("VALIDATION_FAILED");
    }
  });
});

describe("GET /v1/actions/:slug/tool", () => {
  it("exports all 40 actions in all three formats, each accepted by the vendor's rules", async () => {
    for (const slug of allSlugs()) {
      for (const format of TOOL_FORMATS) {
        const res = await get(`/v1/actions/${slug}/tool?format=${format}`);
        expect(res.statusCode, `${slug} ${format}`).toBe(200);
        const tool = res.json();
        expect(toolRuleViolations(tool, format), `${slug} ${format}`).toEqual([]);
        expect(tool, `${slug} ${format}`).toEqual(t.deps.registry.toTool(slug, format));
      }
    }
  });

  it("answers each vendor's shape", async () => {
    const openai = (await get("/v1/actions/SCALE_AI_CREATE_BATCH/tool?format=openai")).json();
    expect(openai).toMatchObject({ type: "function", function: { name: "SCALE_AI_CREATE_BATCH", strict: false, parameters: { type: "object", required: ["name", "project"] } } });
    const anthropic = (await get("/v1/actions/SCALE_AI_CREATE_BATCH/tool?format=anthropic")).json();
    expect(Object.keys(anthropic).sort()).toEqual(["description", "input_schema", "name"]);
    const mcp = (await get("/v1/actions/SCALE_AI_CREATE_BATCH/tool?format=mcp")).json();
    expect(mcp).toMatchObject({ name: "SCALE_AI_CREATE_BATCH", title: "Create batch", inputSchema: { type: "object" }, annotations: { readOnlyHint: false } });
  });

  it("answers 400 for a missing or unknown format and 404 for an unknown action", async () => {
    for (const url of ["/v1/actions/SCALE_AI_CREATE_BATCH/tool", "/v1/actions/SCALE_AI_CREATE_BATCH/tool?format=gemini", "/v1/actions/SCALE_AI_CREATE_BATCH/tool?format=openai&x=1"]) {
      const res = await get(url);
      expect(res.statusCode, url).toBe(400);
      expect(res.json().error.code).toBe("VALIDATION_FAILED");
    }
    const unknown = await get("/v1/actions/SCALE_AI_NOPE/tool?format=mcp");
    expect(unknown.statusCode).toBe(404);
  });
});
