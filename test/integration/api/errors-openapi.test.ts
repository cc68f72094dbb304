import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { Validator } from "@seriousme/openapi-schema-validator";
import Ajv2020 from "ajv/dist/2020";
import addFormats from "ajv-formats";
import { ERROR_CATALOGUE, ERROR_CODES } from "@nagent/errors";
import { bearer, createTestApp, type TestApp } from "../../support/app";

let t: TestApp;
beforeAll(async () => (t = await createTestApp()));
afterAll(() => t.close());

describe("error shapes", () => {
  it("answers unknown routes 404 NOT_FOUND with the envelope and a request id", async () => {
    const res = await t.app.inject({ method: "GET", url: "/v1/nope" });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: { code: "NOT_FOUND", message: expect.any(String), details: null }, request_id: expect.any(String) });
    expect(res.headers["x-request-id"]).toBe(res.json().request_id);
  });

  it("keeps a sane caller-given X-Request-Id", async () => {
    const res = await t.app.inject({ method: "GET", url: "/healthz", headers: { "x-request-id": "req-12345678" } });
    expect(res.headers["x-request-id"]).toBe("req-12345678");
    const bad = await t.app.inject({ method: "GET", url: "/healthz", headers: { "x-request-id": "<script>" } });
    expect(bad.headers["x-request-id"]).not.toBe("<script>");
  });

  it("lists every validation problem with a JSON pointer", async () => {
    const ws = await t.createWorkspace();
    const res = await t.app.inject({ method: "POST", url: "/v1/api-keys", headers: bearer(ws.apiKey), payload: { name: "", extra: 1 } });
    expect(res.statusCode).toBe(400);
    const body = res.json();
    expect(body.error.code).toBe("VALIDATION_FAILED");
    expect(body.error.details).toEqual(expect.arrayContaining([
      expect.objectContaining({ in: "body", path: "/name", keyword: "minLength" }),
      expect.objectContaining({ in: "body", path: "/extra", keyword: "additionalProperties" }),
    ]));
  });

  it("names a missing required property by its pointer", async () => {
    const res = await t.app.inject({ method: "POST", url: "/v1/workspaces", headers: bearer(t.config.adminToken), payload: {} });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.details).toEqual([expect.objectContaining({ path: "/name", keyword: "required" })]);
  });

  it("answers malformed JSON 400 BAD_REQUEST and oversized bodies 413 PAYLOAD_TOO_LARGE", async () => {
    const bad = await t.app.inject({ method: "POST", url: "/v1/workspaces", headers: { ...bearer(t.config.adminToken), "content-type": "application/json" }, payload: "{nope" });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe("BAD_REQUEST");
    const big = await t.app.inject({ method: "POST", url: "/v1/workspaces", headers: { ...bearer(t.config.adminToken), "content-type": "application/json" }, payload: JSON.stringify({ name: "x".repeat(2 * 1024 * 1024) }) });
    expect(big.statusCode).toBe(413);
    expect(big.json().error.code).toBe("PAYLOAD_TOO_LARGE");
  });

  it("answers a non-JSON body 415", async () => {
    const res = await t.app.inject({ method: "POST", url: "/v1/workspaces", headers: { ...bearer(t.config.adminToken), "content-type": "text/plain" }, payload: "name=x" });
    expect(res.statusCode).toBe(415);
    expect(res.json().error.code).toBe("UNSUPPORTED_MEDIA_TYPE");
  });

  it("maps every catalogue code to a 4xx or 5xx status", () => {
    for (const code of ERROR_CODES) {
      const { status, description } = ERROR_CATALOGUE[code];
      expect(status >= 400 && status < 600, code).toBe(true);
      expect(description.length, code).toBeGreaterThan(10);
    }
  });
});

describe("OpenAPI", () => {
  it("serves a valid OpenAPI 3.1 document in which every route has request and response schemas", async () => {
    const res = await t.app.inject({ method: "GET", url: "/openapi.json" });
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    expect(doc.openapi).toBe("3.1.0");
    const result = await new Validator().validate(doc);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    const bodyless = new Set(["post /v1/connections/{id}/test", "post /v1/runs/{id}/cancel", "post /v1/workspaces/{id}/rotate-key",
      "post /v1/trigger-subscriptions/{id}/pause", "post /v1/trigger-subscriptions/{id}/resume", "post /v1/trigger-subscriptions/{id}/test"]);
    for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, { responses?: Record<string, { content?: unknown }>; requestBody?: unknown }>>)) {
      for (const [method, op] of Object.entries(item)) {
        const success = Object.entries(op.responses ?? {}).filter(([status]) => status.startsWith("2"));
        expect(success.length, `${method} ${path} success response`).toBeGreaterThan(0);
        for (const [status, response] of success) if (status !== "204" && !(status === "202" && path.startsWith("/mcp"))) expect(response.content, `${method} ${path} ${status} schema`).toBeDefined();
        if (["post", "patch"].includes(method) && !bodyless.has(`${method} ${path}`)) expect(op.requestBody, `${method} ${path} body`).toBeDefined();
      }
    }
    // Every error code is documented.
    for (const code of ERROR_CODES) expect(doc.info.description).toContain(code);
  });

  it("documents the catalogue routes and makes every action's input and output schema reachable", async () => {
    const doc = (await t.app.inject({ method: "GET", url: "/openapi.json" })).json();
    for (const path of ["/v1/integrations", "/v1/integrations/{slug}", "/v1/actions", "/v1/actions/{slug}", "/v1/actions/{slug}/versions", "/v1/actions/{slug}/validate", "/v1/actions/{slug}/tool", "/v1/flows/check"]) {
      expect(doc.paths[path], path).toBeDefined();
    }
    // Every local $ref in the document points at something (the action schemas' own $defs were rebased).
    const refs = collectRefs(doc);
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) expect(resolvePointer(doc, ref), ref).toBeDefined();

    // Each action's schemas are components the execute operation links to, and they work as schemas: the action's
    // examples pass, the fixture's invalid inputs fail.
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(ajv);
    ajv.addSchema(doc, "openapi.json");
    const execute: string = doc.paths["/v1/actions/{slug}/execute"].post.description;
    // Cases of the manifest's custom keywords (x-max-json-bytes) are left out: OpenAPI tools do not enforce them.
    const invalid = (JSON.parse(readFileSync(new URL("../../fixtures/scale-ai/invalid-inputs.json", import.meta.url), "utf8")) as { action: string; input: unknown; expect: { keyword: string } }[])
      .filter((c) => !c.expect.keyword.startsWith("x-"));
    const slugs = t.deps.registry.getIntegration("scale_ai")!.actions.map((a) => a.slug);
    expect(slugs).toHaveLength(40);
    for (const slug of slugs) {
      for (const role of ["input", "output"]) {
        expect(doc.components.schemas[`${slug}.${role}`], `${slug}.${role}`).toBeDefined();
        expect(execute).toContain(`(#/components/schemas/${slug}.${role})`);
      }
      const validate = ajv.getSchema(`openapi.json#/components/schemas/${slug}.input`)!;
      const input = t.deps.registry.getAction(slug)!.input_schema as { examples: unknown[] };
      for (const example of input.examples) expect(validate(example), `${slug} example`).toBe(true);
      for (const c of invalid.filter((c) => c.action === slug)) expect(validate(c.input), `${slug} invalid input`).toBe(false);
    }
    // Shared manifest definitions are components of their own, referenced by the action schemas.
    expect(doc.components.schemas["SCALE_AI_CREATE_BATCH.output"]).toEqual({ $ref: "#/components/schemas/scale_ai.Batch" });
    const batch = ajv.getSchema("openapi.json#/components/schemas/SCALE_AI_CREATE_BATCH.output")!;
    expect(batch({ name: "b", project: "p", status: "staging", created_at: "2024-01-01T00:00:00Z" })).toBe(true);
    expect(batch({ name: "b" })).toBe(false);
  });

  it("serves the interactive docs", async () => {
    const res = await t.app.inject({ method: "GET", url: "/docs/" });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain("Swagger UI");
  });
});

/** Every `$ref` string in a document (outside `examples`, `default`, `const` and `enum`, which hold data). */
function collectRefs(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) for (const item of node) collectRefs(item, out);
  else if (node !== null && typeof node === "object") {
    for (const [key, value] of Object.entries(node)) {
      if (key === "$ref" && typeof value === "string") out.push(value);
      else if (!["examples", "default", "const", "enum"].includes(key)) collectRefs(value, out);
    }
  }
  return out;
}

/** The value a local reference (`#/a/b~1c`) points at in `doc`, or undefined. */
function resolvePointer(doc: unknown, ref: string): unknown {
  if (!ref.startsWith("#/")) return undefined;
  let node: unknown = doc;
  for (const token of ref.slice(2).split("/").map((t) => decodeURIComponent(t).replace(/~1/g, "/").replace(/~0/g, "~"))) {
    if (node === null || typeof node !== "object" || !Object.hasOwn(node, token)) return undefined;
    node = (node as Record<string, unknown>)[token];
  }
  return node;
}
