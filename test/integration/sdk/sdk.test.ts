import { createServer, request as httpRequest, type IncomingMessage, type Server } from "node:http";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BadRequestError, Nagent, NagentApiError, NotFoundError, type RunEvent, type RunSummary } from "@nagent/sdk";
import { INTEGRATIONS_DIR, loadRegistry } from "@nagent/registry";
import { buildOpenApiDocument } from "@nagent/sdk/openapi-document";
import { createTestStack, type TestStack } from "../../support/stack";
import { createProject } from "../../support/scale";

/**
 * The SDK against the running API (listening on a loopback port, with the worker and the Scale sandbox): every call
 * below goes through `@nagent/sdk` only, as the agent-builder UI's would.
 */
let s: TestStack;
let baseUrl: string;
let client: Nagent;
let connectionId: string;
let apiKey: string;

beforeAll(async () => {
  // A short sync bound, so that a slow upstream call (a sandbox latency fault) outlasts it and answers 202.
  s = await createTestStack({ env: { NAGENT_SYNC_TIMEOUT_MS: "1000" } });
  await s.app.listen({ host: "127.0.0.1", port: 0 });
  baseUrl = `http://127.0.0.1:${(s.app.server.address() as AddressInfo).port}`;
  // Scale-side setup no action covers: a project in the sandbox's world of this key.
  await createProject(s.sandbox.url, s.scaleKey, "sdk_project");
});
afterAll(async () => {
  await s?.close();
});

describe("@nagent/sdk against the running API", () => {
  it("creates a workspace (admin), connects Scale AI (sandbox) and executes three actions with typed inputs", async () => {
    const admin = new Nagent({ baseUrl, apiKey: s.config.adminToken });
    const created = await admin.workspaces.create({ name: "SDK workspace" });
    expect(created.api_key).toMatch(/^nk_/);
    apiKey = created.api_key;
    client = new Nagent({ baseUrl, apiKey });

    const connection = await client.connections.create({ integration: "scale_ai", credentials: { api_key: s.scaleKey } });
    expect(connection).toMatchObject({ integration: "scale_ai", status: "active" });
    expect(JSON.stringify(connection)).not.toContain(s.scaleKey);
    connectionId = connection.id;

    const batch = await client.actions.execute("SCALE_AI_CREATE_BATCH", { name: "sdk_batch", project: "sdk_project" });
    expect(batch.successful).toBe(true);
    if (!batch.successful) throw new Error("unreachable");
    expect(batch.data).toMatchObject({ name: "sdk_batch", project: "sdk_project" });
    expect(["staging", "in_progress", "completed"]).toContain(batch.data.status);

    const got = await client.actions.execute("SCALE_AI_GET_BATCH", { batch_name: "sdk_batch" }, { connectionId });
    expect(got).toMatchObject({ successful: true, data: { name: "sdk_batch" }, error: null, run_id: expect.any(String) });

    const projects = await client.actions.execute("SCALE_AI_LIST_PROJECTS", { limit: 10 });
    expect(projects.successful && projects.data.map((p) => p.name)).toEqual(["sdk_project"]);

    // An upstream failure is an envelope, not an exception: typed error, data null.
    const again = await client.actions.execute("SCALE_AI_CREATE_BATCH", { name: "sdk_batch", project: "sdk_project" });
    expect(again).toMatchObject({ successful: false, data: null, error: { code: "UPSTREAM_CONFLICT", retryable: false } });

    expect(await client.actions.validate("SCALE_AI_GET_BATCH", { batch_name: "sdk_batch" })).toEqual({ valid: true });
  });

  it("rejects bad input and unknown resources with error classes carrying the stable code and the request id", async () => {
    // A caller without the types (plain JavaScript) can still send a bad input: the API's 400 becomes a class.
    const untyped = client.actions.execute as (slug: string, input: unknown) => Promise<unknown>;
    const bad = await untyped.call(client.actions, "SCALE_AI_CREATE_BATCH", { project: "p" }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(BadRequestError);
    expect(bad).toMatchObject({ status: 400, code: "VALIDATION_FAILED", requestId: expect.any(String) });
    expect(NagentApiError.is(bad, "VALIDATION_FAILED")).toBe(true);

    const missing = await client.runs.get("00000000-0000-4000-8000-000000000000").catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(NotFoundError);
    expect(missing).toMatchObject({ status: 404, code: "NOT_FOUND", requestId: expect.any(String) });

    const unauthorized = await new Nagent({ baseUrl, apiKey: "nk_not_a_key" }).runs.get("00000000-0000-4000-8000-000000000000").catch((e: unknown) => e);
    expect(unauthorized).toMatchObject({ name: "AuthenticationError", code: "UNAUTHORIZED" });
  });

  it("pages through runs with an async iterator, fetching pages lazily", async () => {
    for (let i = 0; i < 3; i++) await client.actions.execute("SCALE_AI_GET_PROJECT", { project_name: "sdk_project" });
    const everything: RunSummary[] = [];
    const pageSizes: number[] = [];
    for await (const page of client.runs.list({ limit: 2 }).pages()) pageSizes.push(page.items.length);
    for await (const run of client.runs.list({ limit: 2 })) everything.push(run);
    // 4 runs in the first test, 3 here.
    expect(everything).toHaveLength(7);
    expect(new Set(everything.map((r) => r.id)).size).toBe(7);
    expect(pageSizes).toEqual([2, 2, 2, 1]);
    const times = everything.map((r) => r.created_at);
    expect([...times].sort().reverse()).toEqual(times);

    const succeeded: string[] = [];
    for await (const run of client.runs.list({ status: "succeeded", action: "SCALE_AI_GET_PROJECT", limit: 1 })) succeeded.push(run.action);
    expect(succeeded).toEqual(["SCALE_AI_GET_PROJECT", "SCALE_AI_GET_PROJECT", "SCALE_AI_GET_PROJECT"]);

    // Breaking out early stops paging: the iterator asks for no page it does not need.
    const requested: string[] = [];
    const counting = new Nagent({ baseUrl, apiKey, fetch: (request) => (requested.push(new URL(request.url).pathname), fetch(request)) });
    let seen = 0;
    for await (const _run of counting.runs.list({ limit: 1 })) if (++seen === 2) break;
    expect(seen).toBe(2);
    expect(requested).toEqual(["/v1/runs", "/v1/runs"]);
  });

  it("follows a run's events over server-sent events until it ends", async () => {
    const queued = await client.actions.enqueue("SCALE_AI_GET_PROJECT", { project_name: "sdk_project" });
    expect(queued.run_id).toEqual(expect.any(String));
    const events: RunEvent[] = [];
    for await (const event of client.runs.events(queued.run_id)) events.push(event);
    expect(events.length).toBeGreaterThanOrEqual(1);
    const last = events.at(-1)!;
    expect(last).toMatchObject({ id: queued.run_id, status: "succeeded", output: { successful: true, data: { name: "sdk_project" } } });
    // Every event before the last is a non-terminal state, in order.
    for (const event of events.slice(0, -1)) expect(["queued", "running"]).toContain(event.status);

    // `wait` of a run that has already ended answers its envelope at once.
    expect(await client.runs.wait(queued.run_id)).toMatchObject({ successful: true, data: { name: "sdk_project" } });
  });

  it("follows a sync execute that outlasts the server's bound (202) to its end, and reports it as usual", async () => {
    s.sandbox.control.setFaults(s.scaleKey, [{ route: "GET /v1/projects/*", latency_ms: 2500, times: 1 }]);
    const answers: string[] = [];
    const watching = new Nagent({ baseUrl, apiKey, fetch: async (request) => {
      const response = await fetch(request);
      answers.push(`${response.status} ${new URL(request.url).pathname}`);
      return response;
    } });
    const result = await watching.actions.execute("SCALE_AI_GET_PROJECT", { project_name: "sdk_project" });
    expect(result).toMatchObject({ successful: true, data: { name: "sdk_project" }, run_id: expect.any(String) });
    expect(answers).toEqual(["202 /v1/actions/SCALE_AI_GET_PROJECT/execute", `200 /v1/runs/${result.run_id}/events`]);
  });

  it("the SDK's types come from the document the running API serves: the generator's offline build of it is identical", async () => {
    const served = await (await fetch(`${baseUrl}/openapi.json`)).json();
    expect(await buildOpenApiDocument(loadRegistry(INTEGRATIONS_DIR))).toEqual(served);
  });

  it("retries through an injected 503 with the same Idempotency-Key, and the run is made once", async () => {
    const proxy = await startFaultyProxy(baseUrl);
    try {
      const viaProxy = new Nagent({ baseUrl: proxy.url, apiKey, retry: { baseDelayMs: 10 } });
      const result = await viaProxy.actions.execute("SCALE_AI_GET_BATCH", { batch_name: "sdk_batch" });
      expect(result).toMatchObject({ successful: true, data: { name: "sdk_batch" } });

      // Two attempts reached the API with one key: the first was served (its answer replaced by a 503), the second
      // replayed the first's run.
      expect(proxy.executes).toHaveLength(2);
      const [first, second] = proxy.executes;
      expect(first!.key).toMatch(/^[0-9a-f-]{36}$/);
      expect(second!.key).toBe(first!.key);
      // (200, or 202 had the run outlasted the sync bound: either way the API made the run.)
      expect([200, 202]).toContain(first!.upstreamStatus);
      expect(second!.replayed).toBe("true");

      const runs = await client.runs.list({ idempotency_key: first!.key! }).toArray();
      expect(runs.map((r) => r.id)).toEqual([result.run_id]);
    } finally {
      await proxy.close();
    }
  });
});

/**
 * A loopback proxy in front of the API that serves every request, but answers the first execute with 503 (and
 * Retry-After: 0) after the API has served it: the call's outcome is lost, as behind a failing gateway. Records the
 * Idempotency-Key of each execute that passed.
 */
async function startFaultyProxy(target: string): Promise<{ url: string; executes: { key: string | undefined; upstreamStatus: number; replayed: string | undefined }[]; close(): Promise<void> }> {
  const executes: { key: string | undefined; upstreamStatus: number; replayed: string | undefined }[] = [];
  const server: Server = createServer(async (req, res) => {
    const body = await readBody(req);
    const headers = { ...req.headers, host: new URL(target).host };
    const upstream = await forward(target, req.method ?? "GET", req.url ?? "/", headers, body);
    const isExecute = req.method === "POST" && /^\/v1\/actions\/[^/]+\/execute$/.test(req.url ?? "");
    if (isExecute) {
      const key = req.headers["idempotency-key"];
      executes.push({ key: typeof key === "string" ? key : undefined, upstreamStatus: upstream.status, replayed: upstream.headers["idempotency-replayed"] as string | undefined });
      if (executes.length === 1) {
        res.writeHead(503, { "content-type": "application/json", "retry-after": "0" });
        res.end(JSON.stringify({ error: { code: "SERVICE_UNAVAILABLE", message: "Injected by the test's proxy." }, request_id: "proxy-503" }));
        return;
      }
    }
    res.writeHead(upstream.status, upstream.headers);
    res.end(upstream.body);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    executes,
    async close() {
      server.closeAllConnections();
      server.close();
    },
  };
}

function forward(target: string, method: string, path: string, headers: IncomingMessage["headers"], body: Buffer): Promise<{ status: number; headers: IncomingMessage["headers"]; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${target}${path}`, { method, headers }, async (res) => {
      resolve({ status: res.statusCode ?? 502, headers: res.headers, body: await readBody(res) });
    });
    req.on("error", reject);
    req.end(body);
  });
}

async function readBody(stream: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
