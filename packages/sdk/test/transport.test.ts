import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { Nagent, NagentConnectionError, NagentTimeoutError, RateLimitError, ServerError, ConflictError } from "@nagent/sdk";
import { parseRetryAfter } from "../src/transport";

/** A loopback HTTP server answering with `handle`, recording each request it got. */
async function serve(handle: (req: IncomingMessage, res: ServerResponse, n: number) => void) {
  const seen: { method: string; url: string; headers: IncomingMessage["headers"]; body: string; at: number }[] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    seen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks).toString(), at: Date.now() });
    handle(req, res, seen.length);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  closers.push(async () => {
    server.closeAllConnections();
    server.close();
  });
  return { url, seen };
}
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
};
const RUN = { id: "00000000-0000-4000-8000-000000000001", action: "SCALE_AI_GET_BATCH", status: "succeeded" };
const apiError = (code: string) => ({ error: { code, message: `${code} happened` }, request_id: "req-123" });

describe("retries", () => {
  it("retries a GET through 503s and a dropped connection, then answers", async () => {
    const api = await serve((req, res, n) => {
      if (n === 1) return json(res, 503, apiError("SERVICE_UNAVAILABLE"));
      if (n === 2) return req.socket.destroy();
      json(res, 200, { run: RUN });
    });
    const client = new Nagent({ baseUrl: api.url, apiKey: "nk_test", retry: { baseDelayMs: 5 } });
    expect(await client.runs.get(RUN.id)).toEqual(RUN);
    expect(api.seen).toHaveLength(3);
    expect(api.seen.every((r) => r.headers.authorization === "Bearer nk_test")).toBe(true);
  });

  it("sends one Idempotency-Key on every attempt of an execute, a new one per call, and the caller's when given", async () => {
    const api = await serve((_req, res, n) => (n % 2 === 1 ? json(res, 502, apiError("UPSTREAM_UNREACHABLE")) : json(res, 200, { run_id: RUN.id, data: {}, error: null, successful: true })));
    const client = new Nagent({ baseUrl: api.url, retry: { baseDelayMs: 5 } });
    await client.actions.execute("SCALE_AI_GET_BATCH", { batch_name: "b" });
    await client.actions.execute("SCALE_AI_GET_BATCH", { batch_name: "b" });
    await client.actions.execute("SCALE_AI_GET_BATCH", { batch_name: "b" }, { idempotencyKey: "my-key-1" });
    const keys = api.seen.map((r) => r.headers["idempotency-key"]);
    expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(keys[1]).toBe(keys[0]);
    expect(keys[2]).toMatch(/^[0-9a-f-]{36}$/);
    expect(keys[3]).toBe(keys[2]);
    expect(keys[2]).not.toBe(keys[0]);
    expect(keys.slice(4)).toEqual(["my-key-1", "my-key-1"]);
    // The body is sent whole on each attempt.
    expect(api.seen.map((r) => JSON.parse(r.body))).toEqual(Array(6).fill({ input: { batch_name: "b" }, mode: "sync" }));
  });

  it("waits as long as Retry-After says before retrying a 429", async () => {
    const api = await serve((_req, res, n) => (n === 1 ? json(res, 429, apiError("RATE_LIMITED"), { "retry-after": "1" }) : json(res, 200, { run: RUN })));
    const client = new Nagent({ baseUrl: api.url, retry: { baseDelayMs: 1 } });
    await client.runs.get(RUN.id);
    expect(api.seen).toHaveLength(2);
    expect(api.seen[1]!.at - api.seen[0]!.at).toBeGreaterThanOrEqual(950);
  });

  it("gives up after maxRetries with the last error's class, code and request id", async () => {
    const api = await serve((_req, res) => json(res, 503, apiError("SERVICE_UNAVAILABLE"), { "x-request-id": "req-123" }));
    const client = new Nagent({ baseUrl: api.url, retry: { maxRetries: 3, baseDelayMs: 1 } });
    const error = await client.runs.get(RUN.id).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServerError);
    expect(error).toMatchObject({ status: 503, code: "SERVICE_UNAVAILABLE", requestId: "req-123", message: expect.stringContaining("SERVICE_UNAVAILABLE happened") });
    expect(api.seen).toHaveLength(4);

    const limited = await serve((_req, res) => json(res, 429, apiError("RATE_LIMITED"), { "retry-after": "3600" }));
    const refused = await new Nagent({ baseUrl: limited.url }).runs.get(RUN.id).catch((e: unknown) => e);
    // A Retry-After beyond maxRetryAfterMs is not waited for.
    expect(refused).toBeInstanceOf(RateLimitError);
    expect(refused).toMatchObject({ retryAfterMs: 3_600_000 });
    expect(limited.seen).toHaveLength(1);
  });

  it("does not retry a POST without an Idempotency-Key after a 5xx or a lost answer (it may have been done), nor a 4xx", async () => {
    const api = await serve((req, res, n) => (n === 1 ? json(res, 503, apiError("SERVICE_UNAVAILABLE")) : n === 2 ? req.socket.destroy() : json(res, 409, apiError("NAME_TAKEN"))));
    const client = new Nagent({ baseUrl: api.url, retry: { baseDelayMs: 1 } });
    await expect(client.connections.create({ integration: "scale_ai", credentials: { api_key: "k" } })).rejects.toBeInstanceOf(ServerError);
    await expect(client.connections.create({ integration: "scale_ai", credentials: { api_key: "k" } })).rejects.toBeInstanceOf(NagentConnectionError);
    await expect(client.connections.create({ integration: "scale_ai", credentials: { api_key: "k" } })).rejects.toBeInstanceOf(ConflictError);
    expect(api.seen).toHaveLength(3);
  });

  it("reports a refused connection after its retries", async () => {
    const api = await serve(() => {});
    await closers.pop()!();
    const error = await new Nagent({ baseUrl: api.url, retry: { maxRetries: 1, baseDelayMs: 1 } }).runs.get(RUN.id).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NagentConnectionError);
  });
});

describe("timeouts and cancellation", () => {
  it("times out an attempt that gets no answer, retrying before giving up", async () => {
    const api = await serve(() => {});
    const client = new Nagent({ baseUrl: api.url, timeoutMs: 100, retry: { maxRetries: 1, baseDelayMs: 1 } });
    const error = await client.runs.get(RUN.id).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NagentTimeoutError);
    expect(api.seen).toHaveLength(2);
  });

  it("rejects with the signal's reason when the caller aborts, during a request or between retries", async () => {
    const hanging = await serve(() => {});
    const client = new Nagent({ baseUrl: hanging.url });
    const controller = new AbortController();
    const pending = client.runs.get(RUN.id, { signal: controller.signal });
    setTimeout(() => controller.abort(new Error("user went away")), 50);
    await expect(pending).rejects.toThrow("user went away");

    const limited = await serve((_req, res) => json(res, 429, apiError("RATE_LIMITED"), { "retry-after": "30" }));
    const waiting = new Nagent({ baseUrl: limited.url }).runs.get(RUN.id, { signal: AbortSignal.timeout(100) });
    await expect(waiting).rejects.toMatchObject({ name: "TimeoutError" });
    expect(limited.seen).toHaveLength(1);
  });
});

describe("run events", () => {
  it("parses the event stream, skips comments, and resumes with Last-Event-ID when the stream breaks", async () => {
    const frame = (status: string, attempt: number, output?: unknown) =>
      `id: ${attempt}-${status}\nevent: run\ndata: ${JSON.stringify({ id: RUN.id, status, attempt, reason: null, at: "2026-01-01T00:00:00Z", ...(output ? { output } : {}) })}\n\n`;
    const api = await serve((_req, res, n) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      if (n === 1) {
        res.write(frame("queued", 0) + ": keep-alive\n\n");
        res.write(frame("running", 1).replace(/\n/g, "\r\n"));
        setTimeout(() => res.socket?.destroy(), 20);
      } else res.end(frame("succeeded", 1, { data: { name: "b" }, error: null, successful: true }));
    });
    const client = new Nagent({ baseUrl: api.url });
    const statuses: string[] = [];
    for await (const event of client.runs.events(RUN.id)) statuses.push(event.status);
    expect(statuses).toEqual(["queued", "running", "succeeded"]);
    expect(api.seen.map((r) => r.headers["last-event-id"])).toEqual([undefined, "1-running"]);
    expect(api.seen[0]!.headers.accept).toBe("text/event-stream");
  });
});

describe("parseRetryAfter", () => {
  it("reads delta-seconds and HTTP dates", () => {
    expect(parseRetryAfter("2")).toBe(2000);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4_000)).toBe(6000);
    expect(parseRetryAfter("soon")).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
  });
});
