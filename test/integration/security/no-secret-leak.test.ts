// A recognisable Scale API key goes through every route, a failing upstream and a rejected key; then the captured
// logs, every PostgreSQL table (as text) and every Redis key and value are searched for it. It may exist only as
// ciphertext (vault envelopes in connection.ciphertext), never in clear or in an encoding of it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Redis } from "ioredis";
import { bearer } from "../../support/app";
import { createTestStack, type TestStack } from "../../support/stack";
import { createProject } from "../../support/scale";
import { startCallbackReceiver } from "../../support/callback-receiver";

const SECRET = `test_SECRETMARKER${"9".repeat(24)}`;
const SECOND = `live_SECRETMARKER${"8".repeat(24)}`;
/** Scale's callback auth key (scale-callback-auth), stored with a connection's credentials. */
const CALLBACK_KEY = `cbk_SECRETMARKER${"6".repeat(24)}`;
/** The forms a leak could take: the key itself, and the Basic auth header a call carries. */
const FORMS = [SECRET, SECOND, CALLBACK_KEY, Buffer.from(`${SECRET}:`).toString("base64"), Buffer.from(`${SECOND}:`).toString("base64"), "SECRETMARKER"];

let s: TestStack;
beforeAll(async () => {
  s = await createTestStack();
  s.sandbox.control.addKey(SECRET);
  s.sandbox.control.addKey(SECOND);
});
afterAll(async () => {
  await s?.close();
});

function leaks(text: string): string[] {
  return FORMS.filter((form) => text.includes(form));
}

describe("no secret anywhere", () => {
  it("keeps the key out of responses, logs, PostgreSQL and Redis on every route", async () => {
    const ws = await s.createWorkspace("leak-test");
    const h = bearer(ws.apiKey);
    const responses: string[] = [];
    const call = async (method: string, url: string, payload?: unknown) => {
      const res = await s.app.inject({ method: method as "GET", url, headers: h, ...(payload === undefined ? {} : { payload: payload as object }) });
      responses.push(res.body);
      return res;
    };

    // Connections: create (good key), a refused key, a second connection, rename, replace credentials, test, list.
    const created = await call("POST", "/v1/connections", { integration: "scale_ai", name: "main", credentials: { api_key: SECRET } });
    expect(created.statusCode).toBe(201);
    const connectionId = created.json().connection.id as string;
    expect((await call("POST", "/v1/connections", { integration: "scale_ai", name: "refused", credentials: { api_key: `test_SECRETMARKER${"7".repeat(24)}` } })).statusCode).toBe(422);
    const second = await call("POST", "/v1/connections", { integration: "scale_ai", name: "second", credentials: { api_key: SECOND } });
    await call("PATCH", `/v1/connections/${second.json().connection.id}`, { credentials: { api_key: SECOND }, name: "second-renamed" });
    await call("POST", `/v1/connections/${connectionId}/test`);
    await call("GET", "/v1/connections");
    await call("GET", `/v1/connections/${connectionId}`);

    // Triggers: a connection taking callbacks, a subscription (its whsec_ secret is answered once), a test event, a
    // rotation, a forged and a genuine callback, the event log.
    const receiver = await startCallbackReceiver();
    const withCallbacks = await call("POST", "/v1/connections", { integration: "scale_ai", name: "callbacks", credentials: { api_key: SECRET, callback_auth_key: CALLBACK_KEY } });
    expect(withCallbacks.statusCode).toBe(201);
    const inbound = new URL(withCallbacks.json().connection.inbound_url as string).pathname;
    const signing: string[] = [];
    const subscribed = await s.app.inject({ method: "POST", url: "/v1/trigger-subscriptions", headers: h, payload: { trigger: "SCALE_AI_TASK_COMPLETED", target: { url: receiver.url } } });
    expect(subscribed.statusCode).toBe(201);
    signing.push(subscribed.json().secret);
    const subscriptionId = subscribed.json().subscription.id as string;
    await call("POST", `/v1/trigger-subscriptions/${subscriptionId}/test`);
    const rotated = await s.app.inject({ method: "POST", url: `/v1/trigger-subscriptions/${subscriptionId}/rotate-secret`, headers: h, payload: {} });
    signing.push(rotated.json().secret);
    const callback = { task_id: "5f1e2d3c4b5a697887766554", task: { task_id: "5f1e2d3c4b5a697887766554", status: "completed", completed_at: "2026-12-06T10:00:00.000Z", type: "textcollection" }, response: {} };
    const forged = await s.app.inject({ method: "POST", url: inbound, headers: { "scale-callback-auth": `${CALLBACK_KEY}x` }, payload: callback });
    responses.push(forged.body);
    expect(forged.statusCode).toBe(401);
    const genuine = await s.app.inject({ method: "POST", url: inbound, headers: { "scale-callback-auth": CALLBACK_KEY }, payload: callback });
    responses.push(genuine.body);
    expect(genuine.statusCode).toBe(200);
    await expect.poll(() => receiver.received.length, { timeout: 10_000 }).toBe(2);
    await call("GET", "/v1/trigger-subscriptions");
    await call("GET", `/v1/trigger-subscriptions/${subscriptionId}`);
    const events = await call("GET", "/v1/events");
    for (const e of events.json().events as { id: string }[]) await call("GET", `/v1/events/${e.id}`);
    await receiver.close();
    // The signing secrets, and their key bytes, count as leaks from here on (they were answered once, above).
    for (const secret of signing) FORMS.push(secret, secret.slice("whsec_".length), Buffer.from(secret.slice("whsec_".length), "base64").toString("hex"));

    // Execution: a success, an upstream refusal, upstream 503s (retried, then failing), async and idempotent calls.
    await createProject(s.sandbox.url, SECRET, "leak_project");
    const ok = await call("POST", "/v1/actions/SCALE_AI_CREATE_BATCH/execute", { input: { name: "leak_batch", project: "leak_project" } });
    expect(ok.json().successful).toBe(true);
    await call("POST", "/v1/actions/SCALE_AI_GET_BATCH/execute", { input: { batch_name: "missing" } });
    s.sandbox.control.setFaults(SECRET, [{ route: "GET /v1/projects", error_rate: 1, error_status: 503 }]);
    const failing = await call("POST", "/v1/actions/SCALE_AI_LIST_PROJECTS/execute", { input: {} });
    expect(failing.json().successful).toBe(false);
    s.sandbox.control.clearFaults(SECRET);
    const asyncRun = await s.app.inject({ method: "POST", url: "/v1/actions/SCALE_AI_LIST_BATCHES/execute", headers: { ...h, "idempotency-key": "leak-1" }, payload: { input: {}, mode: "async" } });
    responses.push(asyncRun.body);
    const runId = asyncRun.json().run_id as string;
    await expect.poll(async () => (await call("GET", `/v1/runs/${runId}`)).json().run.status).toBe("succeeded");

    // A key the upstream stops accepting: the run's 401 marks the connection invalid.
    s.sandbox.control.removeKey(SECRET);
    await call("POST", "/v1/actions/SCALE_AI_LIST_PROJECTS/execute", { input: {}, connection_id: connectionId });
    s.sandbox.control.addKey(SECRET);

    // Every other route the API documents, with real ids where the path takes one.
    const doc = (await s.app.inject({ method: "GET", url: "/openapi.json" })).json() as { paths: Record<string, Record<string, unknown>> };
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const method of Object.keys(ops)) {
        if (method !== "get" || path.includes("/events")) continue;
        const url = path
          .replace("{id}", path.startsWith("/v1/runs") ? runId : connectionId)
          .replace("{slug}", path.includes("integrations") ? "scale_ai" : "SCALE_AI_CREATE_BATCH");
        await call("GET", url);
      }
    }
    await call("GET", "/metrics");

    // Delete one connection, then the workspace (crypto-shredding).
    await call("DELETE", `/v1/connections/${second.json().connection.id}`);

    // 1. Responses.
    expect(leaks(responses.join("\n"))).toEqual([]);
    // 2. Logs of the API and the worker.
    expect(s.logs.length).toBeGreaterThan(10);
    expect(leaks(s.logs.join("\n"))).toEqual([]);
    // 3. Every table of the database, as text (bytea prints as hex, so ciphertext cannot match by accident).
    const { rows: tables } = await s.db.pool.query<{ table_name: string }>(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'`);
    expect(tables.length).toBeGreaterThan(5);
    for (const { table_name } of tables) {
      const { rows } = await s.db.pool.query<{ t: string }>(`SELECT t::text AS t FROM "${table_name}" t`);
      expect(leaks(rows.map((r) => r.t).join("\n")), table_name).toEqual([]);
    }
    const ciphertexts = await s.db.pool.query(`SELECT count(*)::int AS n FROM connection WHERE workspace_id = $1`, [ws.id]);
    expect(ciphertexts.rows[0].n).toBe(2); // "main" and "callbacks"
    // 4. Every Redis key and value.
    const redis = new Redis(s.config.redisUrl);
    try {
      let cursor = "0";
      let scanned = 0;
      do {
        const [next, keys] = await redis.scan(cursor, "COUNT", 1000);
        cursor = next;
        for (const key of keys) {
          scanned++;
          expect(leaks(key), key).toEqual([]);
          expect(leaks(await redisValue(redis, key)), key).toEqual([]);
        }
      } while (cursor !== "0");
      expect(scanned).toBeGreaterThan(0);
    } finally {
      redis.disconnect();
    }
  });
});

async function redisValue(redis: Redis, key: string): Promise<string> {
  const type = await redis.type(key);
  switch (type) {
    case "string": return (await redis.get(key)) ?? "";
    case "hash": return JSON.stringify(await redis.hgetall(key));
    case "list": return JSON.stringify(await redis.lrange(key, 0, -1));
    case "set": return JSON.stringify(await redis.smembers(key));
    case "zset": return JSON.stringify(await redis.zrange(key, 0, -1, "WITHSCORES"));
    case "stream": return JSON.stringify(await redis.xrange(key, "-", "+"));
    default: return "";
  }
}
