// The runner's HTTP exchange (undici's handler API, runner.ts `call`) against a real HTTP server on loopback: what the
// upstream receives, and each way an exchange ends (an answer, too large, too slow, refused, dropped).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRunner, type ExecuteCall } from "./runner";

type Route = (req: IncomingMessage, body: string, res: ServerResponse) => void;
const routes = new Map<string, Route>();
const seen: { method: string; url: string; headers: IncomingMessage["headers"]; body: string }[] = [];
let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      const route = routes.get(`${req.method} ${new URL(req.url!, "http://x").pathname}`);
      if (route) route(req, body, res);
      else res.writeHead(404, { "content-type": "application/json" }).end('{"error":"no route"}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const egress = { allowPrivate: true, allowlist: [] };
const auth = { type: "basic", username: "api_key" } as const;
const call = (spec: Pick<ExecuteCall["spec"], "http" | "params">, input: Record<string, unknown> = {}): ExecuteCall => ({
  spec: { ...spec, response: "json", auth: { apply: auth } } as ExecuteCall["spec"],
  input, credentials: { api_key: "live_secret" }, baseUrl: base, mayHaveReachedUpstream: false,
});
const json = (status: number, body: unknown, headers: Record<string, string> = {}): Route => (_req, _body, res) => {
  res.writeHead(status, { "content-type": "application/json", ...headers }).end(JSON.stringify(body));
};

describe("runner: one upstream exchange", () => {
  const runner = createRunner({ timeoutMs: 300, egress, maxResponseBytes: 1_000 });
  afterAll(() => runner.close());

  it("sends the method, path, query, headers and JSON body, and reads a JSON answer", async () => {
    routes.set("POST /v1/things", json(200, { id: "t1", ok: true }));
    const result = await runner.execute(call({ http: { method: "POST", path: "/v1/things" }, params: { name: { in: "body" }, limit: { in: "query" } } }, { name: "n", limit: 5 }));
    expect(result).toMatchObject({ ok: true, status: 200, data: { id: "t1", ok: true } });
    const req = seen.at(-1)!;
    expect(req).toMatchObject({ method: "POST", url: "/v1/things?limit=5", body: '{"name":"n"}' });
    expect(req.headers).toMatchObject({ authorization: `Basic ${Buffer.from("live_secret:").toString("base64")}`, "content-type": "application/json", "user-agent": "nagent-integrations/0.1" });
  });

  it("classifies an error answer with its Retry-After", async () => {
    routes.set("GET /v1/limited", json(429, { error: "slow down" }, { "retry-after": "2" }));
    const result = await runner.execute(call({ http: { method: "GET", path: "/v1/limited" }, params: {} }));
    expect(result).toMatchObject({ ok: false, retryAfterMs: 2_000, error: { code: "UPSTREAM_RATE_LIMITED", upstream_status: 429 } });
  });

  it("stops reading an answer larger than the bound: UPSTREAM_RESPONSE_TOO_LARGE, and the next call works", async () => {
    routes.set("GET /v1/large", json(200, { blob: "x".repeat(5_000) }));
    const result = await runner.execute(call({ http: { method: "GET", path: "/v1/large" }, params: {} }));
    expect(result).toMatchObject({ ok: false, error: { code: "UPSTREAM_RESPONSE_TOO_LARGE", upstream_status: 200, retryable: false } });
    routes.set("GET /v1/small", json(200, { fine: true }));
    expect(await runner.execute(call({ http: { method: "GET", path: "/v1/small" }, params: {} }))).toMatchObject({ ok: true, data: { fine: true } });
  });

  it("gives up on an answer slower than the deadline: UPSTREAM_TIMEOUT, which may have reached the upstream", async () => {
    routes.set("GET /v1/slow", (_req, _body, res) => setTimeout(() => res.writeHead(200, { "content-type": "application/json" }).end("{}"), 1_000));
    const started = performance.now();
    const result = await runner.execute(call({ http: { method: "GET", path: "/v1/slow" }, params: {} }));
    expect(result).toMatchObject({ ok: false, mayHaveReached: true, error: { code: "UPSTREAM_TIMEOUT", retryable: true } });
    expect(performance.now() - started).toBeLessThan(900);
  });

  it("a connection dropped mid-answer: UPSTREAM_UNAVAILABLE, which may have reached the upstream", async () => {
    routes.set("GET /v1/drop", (_req, _body, res) => {
      res.writeHead(200, { "content-type": "application/json", "content-length": "100" });
      res.write('{"partial":');
      setTimeout(() => res.socket?.destroy(), 20);
    });
    const result = await runner.execute(call({ http: { method: "GET", path: "/v1/drop" }, params: {} }));
    expect(result).toMatchObject({ ok: false, mayHaveReached: true, error: { code: "UPSTREAM_UNAVAILABLE", retryable: true } });
  });

  it("a refused connection: UPSTREAM_UNAVAILABLE, which did not reach the upstream", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const result = await runner.execute({ ...call({ http: { method: "GET", path: "/v1/x" }, params: {} }), baseUrl: `http://127.0.0.1:${port}` });
    expect(result).toMatchObject({ ok: false, mayHaveReached: false, error: { code: "UPSTREAM_UNAVAILABLE", message: "The upstream refused the connection." } });
  });

  it("blocks a private address unless the deployment allows it, before any request", async () => {
    const strict = createRunner({ timeoutMs: 300, egress: { allowPrivate: false, allowlist: [] } });
    const before = seen.length;
    const result = await strict.execute(call({ http: { method: "GET", path: "/v1/things" }, params: {} }));
    await strict.close();
    expect(result).toMatchObject({ ok: false, error: { code: "EGRESS_BLOCKED" } });
    expect(seen.length).toBe(before);
  });
});
