// Issue 11's four classes of bad input, each answered 4xx in the envelope: NUL and lone surrogates, non-finite query
// numbers, errors raised before routing (over a real socket), and empty JSON bodies on routes that take none.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LightMyRequestResponse } from "fastify";
import { bearer } from "../../support/app";
import { framingCases, rawRequest } from "../../support/raw-http";
import { createStackWithWorkspace, type TestStack } from "../../support/stack";
import type { ConnectedWorkspace } from "../../support/workspace";

let s: TestStack;
let ws: ConnectedWorkspace;
let port: number;
beforeAll(async () => {
  ({ s, ws } = await createStackWithWorkspace());
  await s.app.listen({ host: "127.0.0.1", port: 0 });
  port = (s.app.server.address() as { port: number }).port;
});
afterAll(async () => {
  await s?.close();
});

const json = { "content-type": "application/json" };
const rowCount = async (table: string) => Number((await s.db.pool.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n);

function expectEnvelope(res: LightMyRequestResponse, status: number, code: string) {
  expect(res.statusCode, res.body).toBe(status);
  const body = res.json();
  expect(Object.keys(body.error).sort()).toEqual(["code", "details", "message"]);
  expect(body).toMatchObject({ error: { code, message: expect.any(String) }, request_id: res.headers["x-request-id"] });
}

describe("strings: no NUL, no lone surrogate", () => {
  it("refuses a NUL in a body with 400 VALIDATION_FAILED and its pointer, storing nothing", async () => {
    const before = await rowCount("workspace");
    const res = await s.app.inject({ method: "POST", url: "/v1/workspaces", headers: bearer(s.config.adminToken), payload: { name: "a\u0000b" } });
    expectEnvelope(res, 400, "VALIDATION_FAILED");
    expect(res.json().error.details).toEqual([{ in: "body", path: "/name", message: expect.stringContaining("U+0000"), keyword: "noNul" }]);
    expect(await rowCount("workspace")).toBe(before);
  });

  it("refuses a lone surrogate (which would have been stored as U+FFFD)", async () => {
    const res = await s.app.inject({ method: "POST", url: "/v1/api-keys", headers: { ...bearer(ws.apiKey), ...json }, payload: '{"name":"a\\ud800b"}' });
    expectEnvelope(res, 400, "VALIDATION_FAILED");
    expect(res.json().error.details).toEqual([expect.objectContaining({ in: "body", path: "/name", keyword: "wellFormed" })]);
  });

  it("refuses a NUL in a connection's name, on create and on update", async () => {
    const created = await s.app.inject({ method: "POST", url: "/v1/connections", headers: bearer(ws.apiKey), payload: { integration: "scale_ai", name: "x\u0000", credentials: { api_key: ws.scaleKey } } });
    expectEnvelope(created, 400, "VALIDATION_FAILED");
    const patched = await s.app.inject({ method: "PATCH", url: `/v1/connections/${ws.connectionId}`, headers: bearer(ws.apiKey), payload: { name: "\u0000" } });
    expectEnvelope(patched, 400, "VALIDATION_FAILED");
    expect(patched.json().error.details[0]).toMatchObject({ path: "/name", keyword: "noNul" });
  });

  it("refuses a NUL deep in an action's input before anything is queued, and in property names", async () => {
    const runs = await rowCount("run");
    const res = await s.app.inject({ method: "POST", url: "/v1/actions/SCALE_AI_SET_TASK_METADATA/execute", headers: bearer(ws.apiKey), payload: { input: { task_id: "t\u0000", metadata: { "k\u0000": 1, nested: ["ok", "\u0000"] } } } });
    expectEnvelope(res, 400, "VALIDATION_FAILED");
    expect(res.json().error.details).toEqual(expect.arrayContaining([
      expect.objectContaining({ path: "/input/task_id", keyword: "noNul" }),
      expect.objectContaining({ path: "/input/metadata/k\u0000", keyword: "noNul" }),
      expect.objectContaining({ path: "/input/metadata/nested/1", keyword: "noNul" }),
    ]));
    expect(await rowCount("run")).toBe(runs);
  });

  it("refuses a NUL in a query string and in a path parameter", async () => {
    const query = await s.app.inject({ method: "GET", url: "/v1/runs?cursor=%00", headers: bearer(ws.apiKey) });
    expectEnvelope(query, 400, "VALIDATION_FAILED");
    expect(query.json().error.details[0]).toMatchObject({ in: "querystring", path: "/cursor" });
    const path = await s.app.inject({ method: "GET", url: "/v1/integrations/a%00b", headers: bearer(ws.apiKey) });
    expect(path.statusCode).toBeLessThan(500);
    expect(path.json().request_id).toBe(path.headers["x-request-id"]);
  });

  it("refuses nesting deeper than the bound instead of overflowing a stack", async () => {
    const deep = `{"input":{"task_id":"t","metadata":{"a":${"[".repeat(5000)}${"]".repeat(5000)}}}}`;
    const res = await s.app.inject({ method: "POST", url: "/v1/actions/SCALE_AI_SET_TASK_METADATA/execute", headers: { ...bearer(ws.apiKey), ...json }, payload: deep });
    expectEnvelope(res, 400, "VALIDATION_FAILED");
    expect(JSON.stringify(res.json().error.details)).toContain("maxDepth");
  });
});

describe("query numbers", () => {
  it.each(["1e309", "-1e309", "Infinity", "NaN", "1e3", "0", "1.5"])("answers GET /v1/runs?limit=%s 400", async (limit) => {
    const res = await s.app.inject({ method: "GET", url: `/v1/runs?limit=${limit}`, headers: bearer(ws.apiKey) });
    expectEnvelope(res, 400, "VALIDATION_FAILED");
    expect(res.json().error.details[0]).toMatchObject({ in: "querystring", path: "/limit" });
  });

  it("refuses a body number JSON parses to Infinity", async () => {
    const res = await s.app.inject({ method: "POST", url: "/v1/actions/SCALE_AI_SET_TASK_METADATA/validate", headers: { ...bearer(ws.apiKey), ...json }, payload: '{"input":{"task_id":"t","metadata":{"n":1e309}}}' });
    expectEnvelope(res, 400, "VALIDATION_FAILED");
    expect(res.json().error.details[0]).toMatchObject({ path: "/input/metadata/n", keyword: "finite" });
  });
});

describe("errors raised before routing, over a socket", () => {
  it.each(framingCases("127.0.0.1").map((c) => [c.name, c.bytes] as const))("answers %s in the envelope", async (_name, bytes) => {
    const res = await rawRequest(port, bytes);
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(res.headers["x-request-id"]).toMatch(/\S{8,}/);
    const body = JSON.parse(res.body);
    expect(body).toEqual({ error: { code: expect.any(String), message: expect.any(String), details: null }, request_id: res.headers["x-request-id"] });
  });

  it("answers headers over the limit 431 HEADERS_TOO_LARGE", async () => {
    const res = await rawRequest(port, `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`);
    expect(res.status).toBe(431);
    expect(JSON.parse(res.body).error.code).toBe("HEADERS_TOO_LARGE");
  });

  it("still serves after all of that", async () => {
    expect((await s.app.inject({ method: "GET", url: "/readyz" })).statusCode).toBe(200);
  });
});

describe("an empty JSON body", () => {
  it("is no body on routes that take none", async () => {
    const run = await s.execute(ws.apiKey, "SCALE_AI_LIST_PROJECTS", { input: {}, mode: "async" });
    const cancel = await s.app.inject({ method: "POST", url: `/v1/runs/${run.body.run_id}/cancel`, headers: { ...bearer(ws.apiKey), ...json }, payload: "" });
    expect([200, 409]).toContain(cancel.statusCode);
    const test = await s.app.inject({ method: "POST", url: `/v1/connections/${ws.connectionId}/test`, headers: { ...bearer(ws.apiKey), ...json }, payload: "" });
    expect(test.statusCode, test.body).toBe(200);
    const unknown = await s.app.inject({ method: "POST", url: "/v1/runs/00000000-0000-4000-8000-000000000000/cancel", headers: { ...bearer(ws.apiKey), ...json } });
    expectEnvelope(unknown, 404, "NOT_FOUND");
  });

  it("is still refused where a body is required", async () => {
    const res = await s.app.inject({ method: "POST", url: "/v1/workspaces", headers: { ...bearer(s.config.adminToken), ...json }, payload: "" });
    expectEnvelope(res, 400, "VALIDATION_FAILED");
  });
});
