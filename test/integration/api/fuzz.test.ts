// Property-based fuzzing of every route in /openapi.json with hostile values generated from the route's own schemas,
// plus malformed HTTP over a socket. Asserts: no 5xx, the error envelope (with its x-request-id) on every 4xx,
// nothing stored by a refused request, and the process still ready afterwards.
// CI runs a fixed seed; FUZZ_SEED=<int> and FUZZ_RUNS=<runs per route> explore others.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { bearer, createTestApp, type TestApp } from "../../support/app";
import { encodeComponent, hostile, resolve, toJson, type HostileContext } from "../../support/hostile";
import { framingCases, rawRequest } from "../../support/raw-http";

const SEED = Number(process.env["FUZZ_SEED"] ?? 20261204);
const RUNS = Number(process.env["FUZZ_RUNS"] ?? 150);

type Schema = Record<string, unknown>;
interface Operation { method: string; path: string; op: Schema }
interface Req { method: string; url: string; headers: Record<string, string>; payload?: string }

let t: TestApp;
let ws: { id: string; apiKey: string };
let doc: Schema;
let tables: string[];
let ctx: HostileContext;
const statuses = new Map<number, number>();
let sent = 0;

beforeAll(async () => {
  t = await createTestApp({ env: { LOG_LEVEL: "fatal" } });
  ws = await t.createWorkspace("Fuzz");
  doc = (await t.app.inject({ method: "GET", url: "/openapi.json" })).json() as Schema;
  tables = (await t.db.pool.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename NOT LIKE '\\_prisma%'")).rows.map((r: { tablename: string }) => r.tablename);
  const keyId = ((await t.app.inject({ method: "GET", url: "/v1/api-keys", headers: bearer(ws.apiKey) })).json() as { api_keys: { id: string }[] }).api_keys[0]!.id;
  const integrations = t.deps.registry.listIntegrations().map((i) => i.slug);
  const actions = integrations.flatMap((slug) => t.deps.registry.getIntegration(slug)!.actions.map((a) => a.slug));
  ctx = { doc, known: { slug: actions, integration: integrations, action: actions, id: [ws.id, keyId] } };
}, 60_000);

afterAll(async () => {
  console.log(`fuzz seed=${SEED} runs/route=${RUNS} requests=${sent} statuses=${JSON.stringify(Object.fromEntries([...statuses].sort(([a], [b]) => a - b)))}`);
  await t?.close();
});

async function rowCounts(): Promise<string> {
  const sql = `SELECT ${tables.map((name) => `(SELECT count(*) FROM "${name}")`).join(", ")}`;
  return JSON.stringify((await t.db.pool.query({ text: sql, rowMode: "array" })).rows[0]);
}

function operations(): Operation[] {
  const out: Operation[] = [];
  for (const [path, item] of Object.entries(doc["paths"] as Record<string, Record<string, Schema>>)) {
    for (const [method, op] of Object.entries(item)) out.push({ method: method.toUpperCase(), path, op });
  }
  return out;
}

const HOSTILE_IDS = ["%00", "%ff%fe", "%ED%A0%80", "..%2F..%2Fetc", "%2e%2e", "%", "%zz", "-1", "0", "1e309", "null", "00000000-0000-0000-0000-000000000000", "7f0c0c1e-0000-4000-8000-00000000000g", "x".repeat(300), "%F0%9F%92%A5", "'%20OR%201%3D1"];

/** A path segment: a known id or slug, a fresh UUID, a hostile id (already encoded), or a generated value. */
function pathValue(name: string, schema: unknown, method: string): fc.Arbitrary<string> {
  // Never the fuzzer's own workspace or key on a DELETE: that would leave every later request a 401.
  const own = method === "DELETE" ? { ...ctx, known: { ...ctx.known, id: [] } } : ctx;
  const real = own.known?.[name] ?? [];
  return fc.oneof(
    ...(real.length ? [fc.constantFrom(...real)] : []),
    fc.uuid(),
    fc.constantFrom(...HOSTILE_IDS),
    hostile(schema, own, name).map(encodeComponent).filter((v) => v.length > 0),
  );
}

function authFor(op: Schema): fc.Arbitrary<Record<string, string>> {
  const security = JSON.stringify(op["security"] ?? []);
  const right = security.includes("adminToken") ? bearer(t.config.adminToken) : bearer(ws.apiKey);
  return fc.oneof({ weight: 19, arbitrary: fc.constant(right) }, { weight: 1, arbitrary: fc.constantFrom({}, { authorization: "Bearer nk_\u00ff" }, { authorization: "Basic x" }) });
}

/** The body: from the route's schema (an action's own input schema when the slug is real), or a broken one. */
function bodyFor(op: Schema, slug: string | undefined): fc.Arbitrary<{ payload?: string; type?: string }> {
  let schema = resolve((op["requestBody"] as Schema | undefined)?.["content"] && ((op["requestBody"] as Schema)["content"] as Schema)["application/json"], doc)["schema"];
  const actionInput = slug ? (doc["components"] as { schemas: Schema }).schemas[`${slug}.input`] : undefined;
  if (schema && actionInput) {
    const s = resolve(schema, doc);
    schema = { ...s, properties: { ...(s["properties"] as Schema), input: actionInput } };
  }
  const json = "application/json";
  const broken = fc.constantFrom({ payload: "", type: json }, { payload: "{nope", type: json }, { payload: "[]", type: json }, { payload: "null", type: json }, { payload: "a=1", type: "text/plain" }, { payload: '{"__proto__":{"x":1}}', type: json });
  if (!schema) return fc.oneof({ weight: 3, arbitrary: fc.constant({}) }, { weight: 1, arbitrary: broken });
  return fc.oneof({ weight: 8, arbitrary: hostile(schema, ctx).map((v) => ({ payload: toJson(v), type: json })) }, { weight: 1, arbitrary: broken });
}

function requestFor({ method, path, op }: Operation): fc.Arbitrary<Req> {
  const params = (op["parameters"] as Schema[] | undefined) ?? [];
  const pathParams = params.filter((p) => p["in"] === "path");
  const query = params.filter((p) => p["in"] === "query");
  const headerParams = params.filter((p) => p["in"] === "header");
  const pathArb = fc.record(Object.fromEntries(pathParams.map((p) => [p["name"] as string, pathValue(p["name"] as string, p["schema"], method)])));
  const queryArb = fc.record(Object.fromEntries(query.map((p) => [p["name"] as string, hostile(p["schema"], ctx, p["name"] as string)])), { requiredKeys: [] });
  const extraQuery = fc.option(fc.tuple(fc.constantFrom("unknown", "limit", "__proto__", "a%00"), fc.constantFrom("1", "%00", "1e309", "")), { freq: 5 });
  const headerArb = fc.record(Object.fromEntries(headerParams.map((p) => [p["name"] as string, fc.string({ unit: fc.constantFrom(..."abcXYZ019-_:.~ !"), minLength: 0, maxLength: 300 })])), { requiredKeys: [] });
  return fc.tuple(pathArb, queryArb, extraQuery, headerArb, authFor(op)).chain(([pv, qv, extra, hv, auth]) => {
    const slug = typeof pv["slug"] === "string" && ctx.known?.["slug"]?.includes(pv["slug"]) ? pv["slug"] : undefined;
    return bodyFor(op, slug).map((body) => {
      const url = path.replace(/\{(\w+)\}/g, (_, name: string) => pv[name] ?? "x");
      const pairs = Object.entries(qv).flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((item) => `${k}=${encodeComponent(item)}`));
      if (extra) pairs.push(`${extra[0]}=${extra[1]}`);
      const headers: Record<string, string> = { ...auth, ...(hv as Record<string, string>) };
      if (body.type) headers["content-type"] = body.type;
      return { method, url: pairs.length ? `${url}?${pairs.join("&")}` : url, headers, ...(body.payload !== undefined ? { payload: body.payload } : {}) };
    });
  });
}

async function check(req: Req): Promise<void> {
  const mutating = req.method !== "GET";
  const before = mutating ? await rowCounts() : "";
  const res = await t.app.inject({ ...req, method: req.method as "GET" });
  sent++;
  statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
  const where = `${req.method} ${req.url} ${(req.payload ?? "").slice(0, 300)} → ${res.statusCode} ${res.body.slice(0, 300)}`;
  expect(res.statusCode, where).toBeLessThan(500);
  if (res.statusCode >= 400 && /^\/mcp(\/|\?|$)/.test(req.url) && "jsonrpc" in (res.json() as object)) {
    // The MCP endpoint answers in the protocol's own JSON-RPC error shape (issue 13), as MCP clients parse it.
    const body = res.json() as { jsonrpc?: unknown; error?: { code?: unknown; message?: unknown } };
    expect(body.jsonrpc, where).toBe("2.0");
    expect(typeof body.error?.code === "number" && typeof body.error?.message === "string", where).toBe(true);
  } else if (res.statusCode >= 400) {
    const body = res.json() as { error?: Record<string, unknown>; request_id?: unknown };
    expect(Object.keys(body).sort(), where).toEqual(["error", "request_id"]);
    expect(Object.keys(body.error ?? {}).sort(), where).toEqual(["code", "details", "message"]);
    expect(typeof body.error!["code"] === "string" && typeof body.error!["message"] === "string", where).toBe(true);
    expect(body.request_id, where).toBe(res.headers["x-request-id"]);
    if (mutating) expect(await rowCounts(), `${where}: a refused request stored something`).toBe(before);
  }
}

describe("fuzzing every OpenAPI route", () => {
  it("answers hostile requests below 500, in the envelope, storing nothing when refused", async () => {
    const ops = operations();
    expect(ops.length).toBeGreaterThan(25);
    for (const [i, op] of ops.entries()) {
      await fc.assert(fc.asyncProperty(requestFor(op), check), { seed: SEED + i, numRuns: RUNS, endOnFailure: true });
    }
  }, 240_000);

  it("answers malformed HTTP over a socket in the envelope", async () => {
    await t.app.listen({ host: "127.0.0.1", port: 0 });
    const port = (t.app.server.address() as { port: number }).port;
    const line = fc.constantFrom("GET / HTTP/1.1", "GET /healthz HTTP/1.1", "POST /v1/workspaces HTTP/1.1", "DELETE /v1/api-keys/%ff HTTP/1.1", "GET /v1/runs?limit=1e309 HTTP/1.1", "BREW /pot HTTP/1.1", "GET  HTTP/1.1", "GET /\u0000 HTTP/1.1", "GET / HTTP/1.1 extra");
    const header = fc.oneof(
      fc.constantFrom("Host: x", "Content-Length: -1", "Content-Length: 99999999999999999999", "Transfer-Encoding: gzip, chunked", "Transfer-Encoding: x", "X\u0000: y", ": empty", "X-A: \u0001", "Content-Type: application/json", `Authorization: Bearer ${ws.apiKey}`, "Expect: 100-continue-ish"),
      fc.tuple(fc.string({ maxLength: 12 }), fc.string({ maxLength: 40 })).map(([k, v]) => `${k}: ${v}`),
    );
    const cases = fc.tuple(line, fc.array(header, { maxLength: 6 })).map(([l, hs]) => `${l}\r\n${hs.join("\r\n")}${hs.length ? "\r\n" : ""}Connection: close\r\n\r\n`);
    const send = async (bytes: string) => {
      const res = await rawRequest(port, bytes, 3_000);
      sent++;
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      const where = `${JSON.stringify(bytes.slice(0, 200))} → ${res.status} ${res.body.slice(0, 200)}`;
      expect(res.status, where).toBeLessThan(500);
      expect(res.headers["x-request-id"], where).toBeTruthy();
      if (res.status >= 400) expect(JSON.parse(res.body).request_id, where).toBe(res.headers["x-request-id"]);
    };
    for (const c of framingCases("127.0.0.1")) await send(c.bytes);
    await fc.assert(fc.asyncProperty(cases, send), { seed: SEED, numRuns: Math.max(20, RUNS), endOnFailure: true });
    expect((await t.app.inject({ method: "GET", url: "/readyz" })).statusCode).toBe(200);
  }, 120_000);
});
