// Issue 12: triggers end to end against the real services: the Scale sandbox calls back the API over HTTP, events
// are stored in PostgreSQL, deliveries go through BullMQ to a receiver on loopback, verified with standardwebhooks.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer } from "../../support/app";
import { freePort } from "../../support/net";
import { createTestStack, FAST_TRIGGER_RETRIES, type TestStack } from "../../support/stack";
import { connectedWorkspace } from "../../support/workspace";
import { startReceiver, waitFor, type Receiver } from "../../support/webhook-receiver";
import { emitEvent } from "@nagent/triggers";

const CALLBACK_AUTH_KEY = `cbk_${randomBytes(12).toString("hex")}`;
const TEXT_TASK = { fields: [{ type: "text", field_id: "answer" }], attachments: [{ type: "text", content: "Is this a cat?" }] };

let s: TestStack;
let receiver: Receiver;
let ws: { id: string; apiKey: string; connectionId: string; inboundUrl: string };

async function api(apiKey: string, method: "GET" | "POST" | "PATCH" | "DELETE", url: string, payload?: unknown) {
  const res = await s.app.inject({ method, url, headers: bearer(apiKey), ...(payload === undefined ? {} : { payload: payload as object }) });
  return { status: res.statusCode, body: res.body ? res.json() : null };
}

async function connect(name: string, fields: Record<string, unknown> = {}) {
  const w = await connectedWorkspace(s, name, { scaleKey: s.liveKey, callbackAuthKey: CALLBACK_AUTH_KEY, fields });
  return { ...w, inboundUrl: w.connection.inbound_url! };
}

async function subscribe(apiKey: string, trigger: string, url: string, extra: Record<string, unknown> = {}) {
  const res = await api(apiKey, "POST", "/v1/trigger-subscriptions", { trigger, target: { url }, ...extra });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { subscription: { id: string }; secret: string };
}

async function createTask(apiKey: string): Promise<string> {
  const res = await s.execute(apiKey, "SCALE_AI_CREATE_TEXT_COLLECTION_TASK", { input: TEXT_TASK });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  expect(res.body.successful, JSON.stringify(res.body)).toBe(true);
  return res.body.data.task_id as string;
}

/** POSTs a callback to an inbound URL as Scale would. */
async function postCallback(url: string, body: unknown, auth: string | undefined) {
  const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json", ...(auth === undefined ? {} : { "scale-callback-auth": auth }) }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json().catch(() => null)) as any };
}

async function eventCount(apiKey: string, query = ""): Promise<number> {
  const res = await api(apiKey, "GET", `/v1/events?limit=200${query}`);
  expect(res.status).toBe(200);
  return res.body.events.length;
}

beforeAll(async () => {
  s = await createTestStack({ listen: true, env: { NAGENT_TRIGGER_DELIVERY_TIMEOUT_MS: "2000" }, worker: { triggers: FAST_TRIGGER_RETRIES } });
  s.sandbox.control.updateSettings({ callback_auth_key: CALLBACK_AUTH_KEY });
  receiver = await startReceiver();
  ws = await connect("triggers");
}, 60_000);

afterAll(async () => {
  if (process.env["TRIGGERS_DEBUG"]) (await import("node:fs")).writeFileSync("/tmp/triggers-debug.log", s.logs.join("\n"));
  await receiver?.close();
  await s?.close();
});

describe("a Scale task completed through the sandbox", () => {
  it("reaches the subscriber exactly once, signed, with the task in a payload of the trigger's schema", async () => {
    const { subscription, secret } = await subscribe(ws.apiKey, "SCALE_AI_TASK_COMPLETED", receiver.url);
    expect(secret).toMatch(/^whsec_/);
    const before = receiver.received.length;
    const taskId = await createTask(ws.apiKey);
    // execute gave the task the connection's inbound URL (no callback_url in the input)
    s.sandbox.control.completeTask(taskId);
    const got = await waitFor(() => receiver.received.length > before);
    expect(got).toBe(true);
    await new Promise((r) => setTimeout(r, 800)); // nothing more arrives
    const mine = receiver.received.slice(before);
    expect(mine).toHaveLength(1);
    const payload = receiver.verify(secret, mine[0]!) as any;
    expect(payload.type).toBe("SCALE_AI_TASK_COMPLETED");
    expect(payload.workspace_id).toBe(ws.id);
    expect(payload.data.task_id).toBe(taskId);
    expect(payload.data.task.status).toBe("completed");
    expect(s.infra.registry.validateTriggerPayload("SCALE_AI_TASK_COMPLETED", payload.data)).toMatchObject({ valid: true });
    // the event log shows it with its succeeded delivery, whose id is the webhook-id
    const event = await waitFor(async () => {
      const e = await api(ws.apiKey, "GET", `/v1/events/${payload.id}`);
      return e.body.event.deliveries[0]?.status === "succeeded" ? e : null;
    });
    expect(event!.status).toBe(200);
    expect(event!.body.event.deliveries).toHaveLength(1);
    expect(event!.body.event.deliveries[0]).toMatchObject({ id: mine[0]!.headers["webhook-id"], subscription_id: subscription.id, status: "succeeded", attempts_count: 1 });
    expect(event!.body.event.deliveries[0].attempts[0]).toMatchObject({ number: 1, outcome: "succeeded", response_status: 200, response_excerpt: "ok" });
    await api(ws.apiKey, "DELETE", `/v1/trigger-subscriptions/${subscription.id}`);
  });
});

describe("inbound callbacks", () => {
  const body = (taskId: string) => ({
    task_id: taskId,
    task: { task_id: taskId, status: "completed", type: "textcollection", completed_at: "2026-12-06T10:00:00.000Z", updated_at: "2026-12-06T10:00:00.000Z", created_at: "2026-12-06T09:00:00.000Z", params: {}, metadata: {} },
    response: { answer: "yes" },
  });

  it("refuses a forged or unsigned callback with 401 and stores nothing", async () => {
    const before = await eventCount(ws.apiKey);
    const taskId = randomBytes(12).toString("hex");
    expect((await postCallback(ws.inboundUrl, body(taskId), undefined)).status).toBe(401);
    expect((await postCallback(ws.inboundUrl, body(taskId), "forged-key-123")).status).toBe(401);
    expect((await postCallback(ws.inboundUrl, body(taskId), CALLBACK_AUTH_KEY + "x")).status).toBe(401);
    // a token that is not a connection's: 404, nothing stored either
    expect((await postCallback(ws.inboundUrl.replace(/\/[^/]+$/, "/AAAAAAAAAAAAAAAAAAAAAAAA"), body(taskId), CALLBACK_AUTH_KEY)).status).toBe(404);
    expect(await eventCount(ws.apiKey)).toBe(before);
  });

  it("refuses a callback to a connection without a callback auth key", async () => {
    const w = await connectedWorkspace(s, "no-key", { scaleKey: s.liveKey }); // answered 201
    expect(w.connection.callback_auth_hint).toBeNull();
    expect((await postCallback(w.connection.inbound_url!, body("a".repeat(24)), CALLBACK_AUTH_KEY)).status).toBe(401);
    expect(await eventCount(w.apiKey)).toBe(0);
  });

  it("answers 400 to an unparseable or malformed callback (after the auth check) and stores nothing", async () => {
    const before = await eventCount(ws.apiKey);
    const bad = await fetch(ws.inboundUrl, { method: "POST", headers: { "content-type": "application/json", "scale-callback-auth": CALLBACK_AUTH_KEY }, body: "{not json" });
    expect(bad.status).toBe(400);
    expect((await postCallback(ws.inboundUrl, { task: "nope" }, CALLBACK_AUTH_KEY)).status).toBe(400);
    const big = await fetch(ws.inboundUrl, { method: "POST", headers: { "content-type": "application/json", "scale-callback-auth": CALLBACK_AUTH_KEY }, body: JSON.stringify({ task_id: "x", task: { pad: "x".repeat(2 * 1024 * 1024) } }) });
    expect(big.status).toBe(413);
    expect(await eventCount(ws.apiKey)).toBe(before);
  });

  it("makes one event of the same callback sent 5 times (at once), delivered once", async () => {
    const { subscription, secret } = await subscribe(ws.apiKey, "SCALE_AI_TASK_COMPLETED", receiver.url);
    const before = receiver.received.length;
    const taskId = randomBytes(12).toString("hex");
    const answers = await Promise.all(Array.from({ length: 5 }, () => postCallback(ws.inboundUrl, body(taskId), CALLBACK_AUTH_KEY)));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
    expect(answers.reduce((n, a) => n + a.body.events, 0)).toBe(1);
    expect(answers.reduce((n, a) => n + a.body.duplicates, 0)).toBe(4);
    await waitFor(() => receiver.received.length > before);
    await new Promise((r) => setTimeout(r, 800));
    const mine = receiver.received.slice(before).filter((r) => r.body?.data?.task_id === taskId);
    expect(mine).toHaveLength(1);
    expect((receiver.verify(secret, mine[0]!) as any).data.task_id).toBe(taskId);
    await api(ws.apiKey, "DELETE", `/v1/trigger-subscriptions/${subscription.id}`);
  });

  it("classifies error, audit and recall callbacks into their triggers", async () => {
    const taskId = randomBytes(12).toString("hex");
    const task = body(taskId).task;
    await postCallback(ws.inboundUrl, { task_id: taskId, task: { ...task, status: "error" }, response: { error: "bad attachment" } }, CALLBACK_AUTH_KEY);
    const audited = { ...task, audits: [{ audit_result: "accepted", audited_at: "2026-12-06T11:00:00.000Z" }] };
    const a = await postCallback(ws.inboundUrl, { task_id: taskId, task: audited, response: {} }, CALLBACK_AUTH_KEY);
    expect(a.body as object).toMatchObject({ events: 2, duplicates: 0 }); // the completion (first seen here) and the audit
    const r = await postCallback(ws.inboundUrl, { task_id: taskId, task: { ...task, status: "pending", updated_at: "2026-12-06T12:00:00.000Z" } }, CALLBACK_AUTH_KEY);
    expect(r.body).toMatchObject({ events: 1 });
    const list = await api(ws.apiKey, "GET", "/v1/events?limit=200");
    const triggers = list.body.events.filter((e: any) => e.data.task_id === taskId).map((e: any) => e.trigger).sort();
    expect(triggers).toEqual(["SCALE_AI_TASK_AUDITED", "SCALE_AI_TASK_COMPLETED", "SCALE_AI_TASK_ERRORED", "SCALE_AI_TASK_RECALLED"]);
    const filtered = await api(ws.apiKey, "GET", "/v1/events?trigger=SCALE_AI_TASK_AUDITED");
    expect(filtered.body.events.every((e: any) => e.trigger === "SCALE_AI_TASK_AUDITED")).toBe(true);
  });
});

describe("deliveries", () => {
  it("retries a receiver that is down, recording every attempt, and delivers once it is back (same webhook-id)", async () => {
    const down = await startReceiver();
    down.answerWith((n) => (n <= 3 ? { status: 503, body: "down for maintenance" } : { status: 200 }));
    const { subscription, secret } = await subscribe(ws.apiKey, "SCALE_AI_TASK_COMPLETED", down.url);
    const taskId = await createTask(ws.apiKey);
    s.sandbox.control.completeTask(taskId);
    expect(await waitFor(() => down.delivered().length === 1, 15_000)).toBe(true);
    expect(down.received.map((r) => r.status)).toEqual([503, 503, 503, 200]);
    expect(new Set(down.received.map((r) => r.headers["webhook-id"])).size).toBe(1);
    for (const r of down.received) expect(() => down.verify(secret, r)).not.toThrow();
    const eventId = down.received[0]!.body.id;
    // (the receiver answered before the attempt's record was committed)
    const delivery = await waitFor(async () => {
      const event = await api(ws.apiKey, "GET", `/v1/events/${eventId}`);
      const found = event.body.event.deliveries.find((d: any) => d.subscription_id === subscription.id);
      return found.status === "succeeded" ? found : null;
    });
    expect(delivery).toMatchObject({ status: "succeeded", attempts_count: 4 });
    expect(delivery.attempts.map((a: any) => [a.number, a.outcome, a.response_status])).toEqual([[4, "succeeded", 200], [3, "failed", 503], [2, "failed", 503], [1, "failed", 503]]);
    expect(delivery.attempts[3].response_excerpt).toBe("down for maintenance");
    // filters of the event log
    expect((await api(ws.apiKey, "GET", `/v1/events?subscription_id=${subscription.id}`)).body.events.map((e: any) => e.id)).toEqual([eventId]);
    expect((await api(ws.apiKey, "GET", `/v1/events?subscription_id=${subscription.id}&status=failed`)).body.events).toEqual([]);

    // redeliver: the same delivery (webhook-id) again, on a fresh schedule
    const again = await api(ws.apiKey, "POST", `/v1/events/${eventId}/redeliver`, {});
    expect(again).toMatchObject({ status: 202, body: { deliveries: 1 } });
    expect(await waitFor(() => down.delivered().length === 2)).toBe(true);
    expect(down.delivered()[1]!.headers["webhook-id"]).toBe(delivery.id);
    await api(ws.apiKey, "DELETE", `/v1/trigger-subscriptions/${subscription.id}`);
    await down.close();
  });

  it("honours Retry-After, and stops and disables the subscription on 410 Gone", async () => {
    const gone = await startReceiver();
    const at: number[] = [];
    gone.answerWith((n) => {
      at.push(Date.now());
      return n === 1 ? { status: 429, headers: { "retry-after": "1" } } : { status: 410 };
    });
    const { subscription } = await subscribe(ws.apiKey, "SCALE_AI_TASK_COMPLETED", gone.url);
    const taskId = await createTask(ws.apiKey);
    s.sandbox.control.completeTask(taskId);
    const sub = await waitFor(async () => {
      const r = await api(ws.apiKey, "GET", `/v1/trigger-subscriptions/${subscription.id}`);
      return r.body.subscription.status === "disabled" ? r.body.subscription : null;
    }, 15_000);
    expect(sub).toMatchObject({ status: "disabled" });
    expect(sub.disabled_reason).toMatch(/410/);
    expect(gone.received).toHaveLength(2);
    // the schedule says 100 ms, Retry-After said 1 s
    expect(at[1]! - at[0]!).toBeGreaterThanOrEqual(950);
    // events still recorded while disabled, their deliveries held
    const other = await createTask(ws.apiKey);
    s.sandbox.control.completeTask(other);
    await waitFor(async () => (await api(ws.apiKey, "GET", "/v1/events?trigger=SCALE_AI_TASK_COMPLETED&limit=200")).body.events.some((e: any) => e.data.task_id === other));
    await new Promise((r) => setTimeout(r, 500));
    expect(gone.received).toHaveLength(2);
    // resume sends what waited
    gone.answerWith(() => ({ status: 200 }));
    const resumed = await api(ws.apiKey, "POST", `/v1/trigger-subscriptions/${subscription.id}/resume`);
    expect(resumed.body.subscription).toMatchObject({ status: "active", disabled_reason: null });
    expect(await waitFor(() => gone.received.some((r) => r.body?.data?.task_id === other))).toBe(true);
    await api(ws.apiKey, "DELETE", `/v1/trigger-subscriptions/${subscription.id}`);
    await gone.close();
  });

  it("disables a subscription whose deliveries fail for longer than the limit", async () => {
    const w = await connect("failing");
    const port = await freePort(); // nothing listens there: connection refused
    const { subscription } = await subscribe(w.apiKey, "SCALE_AI_TASK_COMPLETED", `http://127.0.0.1:${port}/hooks`);
    // The subscription has been failing for two minutes already (past this stack's 60 s limit).
    await s.db.pool.query(`UPDATE trigger_subscription SET failing_since = now() - interval '2 minutes' WHERE id = $1`, [subscription.id]);
    const taskId = await createTask(w.apiKey);
    s.sandbox.control.completeTask(taskId);
    const sub = await waitFor(async () => {
      const r = await api(w.apiKey, "GET", `/v1/trigger-subscriptions/${subscription.id}`);
      return r.body.subscription.status === "disabled" ? r.body.subscription : null;
    }, 15_000);
    expect(sub.disabled_reason).toMatch(/without a success/);
    // the disable is itself an event (NAGENT_SUBSCRIPTION_DISABLED, no subscriber here), newer than the task's
    const disabledEvents = await api(w.apiKey, "GET", "/v1/events?trigger=NAGENT_SUBSCRIPTION_DISABLED");
    expect(disabledEvents.body.events.map((e: any) => e.data.subscription_id)).toEqual([subscription.id]);
    const events = await api(w.apiKey, "GET", "/v1/events?trigger=SCALE_AI_TASK_COMPLETED");
    const event = await api(w.apiKey, "GET", `/v1/events/${events.body.events[0].id}`);
    expect(event.body.event.deliveries[0]).toMatchObject({ status: "failed", attempts_count: 5 });
    expect(event.body.event.deliveries[0].attempts[0].outcome).toBe("error");
  });
});

describe("lost jobs", () => {
  it("a delivery whose job never reached the queue is sent by the sweeper", async () => {
    const r = await startReceiver();
    const { subscription } = await subscribe(ws.apiKey, "SCALE_AI_TASK_COMPLETED", r.url);
    const taskId = randomBytes(12).toString("hex");
    // Stored as the inbound path stores it, but never enqueued (as if the process died right after the commit).
    const emitted = await emitEvent(s.db.pool, s.infra.registry, {
      workspaceId: ws.id, trigger: "SCALE_AI_TASK_COMPLETED", dedupKey: `lost:${taskId}`, source: "platform", connectionId: ws.connectionId,
      data: { task_id: taskId, task: { task_id: taskId, status: "completed" }, response: null },
    });
    expect(emitted.deliveries.length).toBeGreaterThanOrEqual(1);
    expect(await waitFor(() => r.received.some((x) => x.body?.data?.task_id === taskId), 15_000)).toBe(true);
    expect(r.received.filter((x) => x.body?.data?.task_id === taskId)).toHaveLength(1);
    await api(ws.apiKey, "DELETE", `/v1/trigger-subscriptions/${subscription.id}`);
    await r.close();
  });
});

describe("a workspace data-key rotation", () => {
  it("re-seals subscriptions' signing secrets: deliveries after it are signed with the same secret", async () => {
    const w = await connect("rotated");
    const r = await startReceiver();
    const { subscription, secret } = await subscribe(w.apiKey, "SCALE_AI_TASK_COMPLETED", r.url);
    const rotated = await s.app.inject({ method: "POST", url: `/v1/workspaces/${w.id}/rotate-key`, headers: bearer(s.config.adminToken) });
    expect(rotated.statusCode, rotated.body).toBe(200);
    expect(rotated.json().reencrypted_by_kind).toMatchObject({ connection: 1, subscription_secret: 1 });
    const test = await api(w.apiKey, "POST", `/v1/trigger-subscriptions/${subscription.id}/test`);
    expect(await waitFor(() => r.delivered().length >= 1)).toBe(true);
    expect(() => r.verify(secret, r.delivered()[0]!)).not.toThrow();
    const attempt = await waitFor(async () => (await api(w.apiKey, "GET", `/v1/events/${test.body.event_id}`)).body.event.deliveries[0].attempts[0]);
    expect(attempt).toMatchObject({ outcome: "succeeded" });
    await r.close();
  });
});

describe("subscriptions", () => {
  it("validate the trigger, the filter, the connection and the target", async () => {
    const unknown = await api(ws.apiKey, "POST", "/v1/trigger-subscriptions", { trigger: "SCALE_AI_NO_SUCH_THING", target: { url: receiver.url } });
    expect([unknown.status, unknown.body.error.code]).toEqual([404, "TRIGGER_NOT_FOUND"]);
    const badFilter = await api(ws.apiKey, "POST", "/v1/trigger-subscriptions", { trigger: "SCALE_AI_TASK_COMPLETED", filter: { colour: "red" }, target: { url: receiver.url } });
    expect(badFilter.status).toBe(400);
    expect(badFilter.body.error.code).toBe("VALIDATION_FAILED");
    expect((await api(ws.apiKey, "POST", "/v1/trigger-subscriptions", { trigger: "SCALE_AI_TASK_COMPLETED", target: { url: "ftp://example.com/x" } })).status).toBe(400);
    expect((await api(ws.apiKey, "POST", "/v1/trigger-subscriptions", { trigger: "SCALE_AI_TASK_COMPLETED", connection_id: "0193a6f2-5c3e-7d41-9b2a-1f6e8c0d4a21", target: { url: receiver.url } })).status).toBe(404);
  });

  it("deliver only events matching the filter", async () => {
    const r = await startReceiver();
    await subscribe(ws.apiKey, "SCALE_AI_TASK_COMPLETED", r.url, { filter: { task_type: "imageannotation" } });
    const task = (id: string, type: string) => ({ task_id: id, task: { task_id: id, type, status: "completed", completed_at: "2026-12-06T10:00:00.000Z" }, response: {} });
    const [a, b] = [randomBytes(12).toString("hex"), randomBytes(12).toString("hex")];
    await postCallback(ws.inboundUrl, task(a, "textcollection"), CALLBACK_AUTH_KEY);
    await postCallback(ws.inboundUrl, task(b, "imageannotation"), CALLBACK_AUTH_KEY);
    expect(await waitFor(() => r.received.length >= 1)).toBe(true);
    await new Promise((res) => setTimeout(res, 500));
    expect(r.received.map((x) => x.body.data.task_id)).toEqual([b]);
    await r.close();
  });

  it("send the trigger's example as a test event; pause holds deliveries; a rotated secret signs with both until the grace ends", async () => {
    const r = await startReceiver();
    const { subscription, secret } = await subscribe(ws.apiKey, "SCALE_AI_TASK_COMPLETED", r.url);
    const test = await api(ws.apiKey, "POST", `/v1/trigger-subscriptions/${subscription.id}/test`);
    expect(test.status).toBe(202);
    expect(await waitFor(() => r.received.length === 1)).toBe(true);
    const example = s.infra.registry.getTrigger("SCALE_AI_TASK_COMPLETED")!.examples[0];
    expect((r.verify(secret, r.received[0]!) as any).data).toEqual(example);
    expect(r.received[0]!.headers["webhook-id"]).toBe(test.body.delivery_id);

    const paused = await api(ws.apiKey, "POST", `/v1/trigger-subscriptions/${subscription.id}/pause`);
    expect(paused.body.subscription.status).toBe("paused");
    await api(ws.apiKey, "POST", `/v1/trigger-subscriptions/${subscription.id}/test`);
    await new Promise((res) => setTimeout(res, 500));
    expect(r.received).toHaveLength(1);

    const rotated = await api(ws.apiKey, "POST", `/v1/trigger-subscriptions/${subscription.id}/rotate-secret`, { grace_period_seconds: 3600 });
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).not.toBe(secret);
    expect(rotated.body.subscription.previous_secret_expires_at).not.toBeNull();
    await api(ws.apiKey, "POST", `/v1/trigger-subscriptions/${subscription.id}/resume`);
    expect(await waitFor(() => r.received.length === 2)).toBe(true);
    const second = r.received[1]!;
    expect(String(second.headers["webhook-signature"]).split(" ")).toHaveLength(2);
    expect(() => r.verify(secret, second)).not.toThrow();
    expect(() => r.verify(rotated.body.secret, second)).not.toThrow();

    const now = await api(ws.apiKey, "POST", `/v1/trigger-subscriptions/${subscription.id}/rotate-secret`, { grace_period_seconds: 0 });
    await api(ws.apiKey, "POST", `/v1/trigger-subscriptions/${subscription.id}/test`);
    expect(await waitFor(() => r.received.length === 3)).toBe(true);
    expect(String(r.received[2]!.headers["webhook-signature"]).split(" ")).toHaveLength(1);
    expect(() => r.verify(now.body.secret, r.received[2]!)).not.toThrow();
    expect(() => r.verify(rotated.body.secret, r.received[2]!)).toThrow();

    const list = await api(ws.apiKey, "GET", "/v1/trigger-subscriptions");
    expect(list.body.subscriptions.map((x: any) => x.id)).toContain(subscription.id);
    expect(JSON.stringify(list.body)).not.toContain("whsec_" + now.body.secret.slice(6, 20));
    expect((await api(ws.apiKey, "DELETE", `/v1/trigger-subscriptions/${subscription.id}`)).status).toBe(204);
    expect((await api(ws.apiKey, "GET", `/v1/trigger-subscriptions/${subscription.id}`)).status).toBe(404);
    await r.close();
  });
});

describe("connections", () => {
  it("give new tasks their inbound URL only once a callback auth key is set; PATCH switches the events mode", async () => {
    const w = await connectedWorkspace(s, "late-key", { scaleKey: s.liveKey });
    const id = w.connectionId;
    expect(w.connection).toMatchObject({ events: "callback", callback_auth_hint: null });
    expect(w.connection.inbound_url).toMatch(/\/v1\/inbound\/scale_ai\/[A-Za-z0-9_-]{43}$/);
    const before = await createTask(w.apiKey);
    expect((await s.sandbox.control.callbacks(before))).toEqual([]);
    const withoutUrl = await s.execute(w.apiKey, "SCALE_AI_GET_V1_TASK", { input: { task_id: before } });
    expect(withoutUrl.body.data.callback_url).toBeUndefined();

    const bad = await api(w.apiKey, "PATCH", `/v1/connections/${id}`, { credentials: { api_key: s.liveKey, callback_auth_key: "short" } });
    expect([bad.status, bad.body.error.details[0].path]).toEqual([400, "/credentials/callback_auth_key"]);
    const patched = await api(w.apiKey, "PATCH", `/v1/connections/${id}`, { credentials: { api_key: s.liveKey, callback_auth_key: CALLBACK_AUTH_KEY } });
    expect(patched.status).toBe(200);
    expect(patched.body.connection.callback_auth_hint).toMatch(/^cbk_…/);
    const after = await createTask(w.apiKey);
    const withUrl = await s.execute(w.apiKey, "SCALE_AI_GET_V1_TASK", { input: { task_id: after } });
    expect(withUrl.body.data.callback_url).toBe(w.connection.inbound_url);
    // the run keeps the input as sent
    const runs = await api(w.apiKey, "GET", "/v1/runs?action=SCALE_AI_CREATE_TEXT_COLLECTION_TASK&limit=1");
    const run = await api(w.apiKey, "GET", `/v1/runs/${runs.body.runs[0].id}`);
    expect(run.body.run.input.callback_url).toBeUndefined();
    // a caller's own callback_url is kept
    const own = await s.execute(w.apiKey, "SCALE_AI_CREATE_TEXT_COLLECTION_TASK", { input: { ...TEXT_TASK, callback_url: "ops@example.com" } });
    expect(own.body.data.callback_url).toBe("ops@example.com");

    const polled = await api(w.apiKey, "PATCH", `/v1/connections/${id}`, { events: "poll" });
    expect(polled.body.connection.events).toBe("poll");
    const third = await createTask(w.apiKey);
    expect((await s.execute(w.apiKey, "SCALE_AI_GET_V1_TASK", { input: { task_id: third } })).body.data.callback_url).toBeUndefined();
    expect((await api(w.apiKey, "PATCH", `/v1/connections/${id}`, { events: "sometimes" })).status).toBe(400);
  });
});

describe("polling mode", () => {
  it("yields the same events, with the same dedup keys, as callbacks", async () => {
    const w = await connect("poller", { events: "poll" });
    const conn = await api(w.apiKey, "GET", `/v1/connections/${w.connectionId}`);
    expect(conn.body.connection.events).toBe("poll");
    const r = await startReceiver();
    const { secret } = await subscribe(w.apiKey, "SCALE_AI_TASK_COMPLETED", r.url);
    const taskId = await createTask(w.apiKey);
    // a polled connection's tasks get no callback URL
    s.sandbox.control.completeTask(taskId);
    expect(s.sandbox.control.callbacks(taskId)).toEqual([]);
    const polled = await s.workers.triggers.poll();
    expect(polled.events).toBeGreaterThanOrEqual(1);
    // (the connection shares the sandbox key, and so its tasks, with the other tests: keep to this task's deliveries)
    const forTask = () => r.received.filter((x) => x.body?.data?.task_id === taskId);
    expect(await waitFor(() => forTask().length === 1)).toBe(true);
    const delivered = r.verify(secret, forTask()[0]!) as any;
    expect(delivered).toMatchObject({ type: "SCALE_AI_TASK_COMPLETED", data: { task_id: taskId } });
    // polling again: nothing new
    expect((await s.workers.triggers.poll()).events).toBe(0);
    // the callback Scale would have sent for it is the same event (same dedup key): a duplicate
    const task = (await api(w.apiKey, "GET", `/v1/events/${delivered.id}`)).body.event.data.task;
    const cb = await postCallback(w.inboundUrl, { task_id: taskId, task, response: task.response }, CALLBACK_AUTH_KEY);
    expect(cb.body).toMatchObject({ events: 0, duplicates: 1 });
    await new Promise((res) => setTimeout(res, 300));
    expect(forTask()).toHaveLength(1);
    await r.close();
  });
});

describe("workspaces", () => {
  it("another workspace sees none of it", async () => {
    const other = await s.createWorkspace("other");
    const mine = await api(ws.apiKey, "GET", "/v1/events");
    expect(mine.body.events.length).toBeGreaterThan(0);
    const eventId = mine.body.events[0].id;
    const { subscription } = await subscribe(ws.apiKey, "SCALE_AI_TASK_COMPLETED", receiver.url);
    expect((await api(other.apiKey, "GET", "/v1/events")).body.events).toEqual([]);
    expect((await api(other.apiKey, "GET", `/v1/events/${eventId}`)).status).toBe(404);
    expect((await api(other.apiKey, "POST", `/v1/events/${eventId}/redeliver`, {})).status).toBe(404);
    expect((await api(other.apiKey, "GET", "/v1/trigger-subscriptions")).body.subscriptions).toEqual([]);
    for (const [method, path] of [["GET", ""], ["POST", "/pause"], ["POST", "/resume"], ["POST", "/rotate-secret"], ["POST", "/test"], ["DELETE", ""]] as const) {
      const res = await api(other.apiKey, method, `/v1/trigger-subscriptions/${subscription.id}${path}`);
      expect(res.status, `${method} ${path} ${JSON.stringify(res.body)}`).toBe(404);
    }
    // a subscription cannot name another workspace's connection
    expect((await api(other.apiKey, "POST", "/v1/trigger-subscriptions", { trigger: "SCALE_AI_TASK_COMPLETED", connection_id: ws.connectionId, target: { url: receiver.url } })).status).toBe(404);
    await api(ws.apiKey, "DELETE", `/v1/trigger-subscriptions/${subscription.id}`);
  });
});

describe("metrics", () => {
  it("count events received, deliveries by outcome and the delivery lag", async () => {
    await new Promise((r) => setTimeout(r, 300)); // the recorders flush every 200 ms
    const text = (await s.app.inject({ method: "GET", url: "/metrics" })).body;
    const value = (pattern: RegExp) => Number(pattern.exec(text)?.[1] ?? "NaN");
    expect(value(/^nagent_trigger_events_total\{trigger="SCALE_AI_TASK_COMPLETED",source="callback"\} (\d+)$/m)).toBeGreaterThanOrEqual(3);
    expect(value(/^nagent_trigger_events_total\{trigger="SCALE_AI_TASK_COMPLETED",source="poll"\} (\d+)$/m)).toBeGreaterThanOrEqual(1);
    expect(value(/^nagent_trigger_delivery_attempts_total\{outcome="succeeded"\} (\d+)$/m)).toBeGreaterThanOrEqual(5);
    expect(value(/^nagent_trigger_delivery_attempts_total\{outcome="failed"\} (\d+)$/m)).toBeGreaterThanOrEqual(3);
    expect(value(/^nagent_trigger_delivery_attempts_total\{outcome="gone"\} (\d+)$/m)).toBeGreaterThanOrEqual(1);
    expect(value(/^nagent_trigger_delivery_lag_seconds_count (\d+)$/m)).toBe(value(/^nagent_trigger_delivery_attempts_total\{outcome="succeeded"\} (\d+)$/m));
  });
});
