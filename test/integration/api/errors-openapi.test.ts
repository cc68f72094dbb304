import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Validator } from "@seriousme/openapi-schema-validator";
import { ERROR_CATALOGUE, ERROR_CODES } from "@nagent/errors";
import { bearer, createTestApp, type TestApp } from "../../support/app";

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

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
    const bodyless = new Set(["post /v1/connections/{id}/test", "post /v1/runs/{id}/cancel"]);
    for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, { responses?: Record<string, { content?: unknown }>; requestBody?: unknown }>>)) {
      for (const [method, op] of Object.entries(item)) {
        const success = Object.entries(op.responses ?? {}).filter(([status]) => status.startsWith("2"));
        expect(success.length, `${method} ${path} success response`).toBeGreaterThan(0);
        for (const [status, response] of success) if (status !== "204") expect(response.content, `${method} ${path} ${status} schema`).toBeDefined();
        if (["post", "patch"].includes(method) && !bodyless.has(`${method} ${path}`)) expect(op.requestBody, `${method} ${path} body`).toBeDefined();
      }
    }
    // Every error code is documented.
    for (const code of ERROR_CODES) expect(doc.info.description).toContain(code);
  });

  it("serves the interactive docs", async () => {
    const res = await t.app.inject({ method: "GET", url: "/docs/" });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain("Swagger UI");
  });
});
