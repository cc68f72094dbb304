// Issue 12: a subscription the platform disables (its target answered 410 Gone, or it failed for days) is announced as
// the platform trigger NAGENT_SUBSCRIPTION_DISABLED. Real services: the Scale sandbox calls back the API over HTTP,
// deliveries go through BullMQ to receivers on loopback, verified with standardwebhooks.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SUBSCRIPTION_DISABLED_TRIGGER, subscriptionDisabledDedupKey } from "@nagent/triggers";
import { bearer } from "../../support/app";
import { createTestStack, FAST_TRIGGER_RETRIES, type TestStack } from "../../support/stack";
import { connectedWorkspace } from "../../support/workspace";
import { startReceiver, waitFor, type Received, type Receiver } from "../../support/webhook-receiver";

const CALLBACK_AUTH_KEY = `cbk_${randomBytes(12).toString("hex")}`;
const TEXT_TASK = { fields: [{ type: "text", field_id: "answer" }], attachments: [{ type: "text", content: "Is this a cat?" }] };

let s: TestStack;
const receivers: Receiver[] = [];

async function api(apiKey: string, method: "GET" | "POST" | "PATCH" | "DELETE", url: string, payload?: unknown) {
  const res = await s.app.inject({ method, url, headers: bearer(apiKey), ...(payload === undefined ? {} : { payload: payload as object }) });
  return { status: res.statusCode, body: res.body ? res.json() : null };
}

const connect = (name: string) => connectedWorkspace(s, name, { scaleKey: s.liveKey, callbackAuthKey: CALLBACK_AUTH_KEY });

/** A subscription with its own receiver answering `answer`. */
async function subscribe(apiKey: string, trigger: string, answer: (n: number) => { status: number } = () => ({ status: 200 }), extra: Record<string, unknown> = {}) {
  const receiver = await startReceiver();
  receivers.push(receiver);
  receiver.answerWith(answer);
  const res = await api(apiKey, "POST", "/v1/trigger-subscriptions", { trigger, target: { url: receiver.url }, ...extra });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return { id: res.body.subscription.id as string, secret: res.body.secret as string, receiver };
}

async function completeTask(apiKey: string): Promise<string> {
  const res = await s.execute(apiKey, "SCALE_AI_CREATE_TEXT_COLLECTION_TASK", { input: TEXT_TASK });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  const taskId = res.body.data.task_id as string;
  s.sandbox.control.completeTask(taskId);
  return taskId;
}

async function disabled(apiKey: string, id: string) {
  return waitFor(async () => {
    const r = await api(apiKey, "GET", `/v1/trigger-subscriptions/${id}`);
    return r.body.subscription.status === "disabled" ? r.body.subscription : null;
  }, 15_000);
}

/** A delivery's payload, after checking its Standard Webhooks signature and that `data` is of the trigger's schema. */
function verified(sub: { secret: string; receiver: Receiver }, r: Received): any {
  const payload = sub.receiver.verify(sub.secret, r) as any;
  expect(payload.type).toBe(SUBSCRIPTION_DISABLED_TRIGGER);
  expect(s.infra.registry.validateTriggerPayload(SUBSCRIPTION_DISABLED_TRIGGER, payload.data)).toEqual({ valid: true });
  return payload;
}

beforeAll(async () => {
  s = await createTestStack({ listen: true, env: { NAGENT_TRIGGER_DELIVERY_TIMEOUT_MS: "2000" }, worker: { triggers: FAST_TRIGGER_RETRIES } });
  s.sandbox.control.updateSettings({ callback_auth_key: CALLBACK_AUTH_KEY });
}, 60_000);

afterAll(async () => {
  for (const r of receivers) await r.close();
  await s?.close();
});

describe("NAGENT_SUBSCRIPTION_DISABLED", () => {
  it("is delivered once, signed, to the workspace's subscribers when a 410 disables a subscription; never to another workspace", async () => {
    const ws = await connect("disabling");
    const other = await connect("stranger");
    const a = await subscribe(ws.apiKey, "SCALE_AI_TASK_COMPLETED", () => ({ status: 410 }));
    const b = await subscribe(ws.apiKey, SUBSCRIPTION_DISABLED_TRIGGER);
    // a filter naming another trigger: not this one's
    const filtered = await subscribe(ws.apiKey, SUBSCRIPTION_DISABLED_TRIGGER, undefined, { filter: { trigger: "SCALE_AI_TASK_ERRORED" } });
    const stranger = await subscribe(other.apiKey, SUBSCRIPTION_DISABLED_TRIGGER);

    await completeTask(ws.apiKey);
    const sub = await disabled(ws.apiKey, a.id);
    expect(sub.disabled_reason).toMatch(/410/);
    expect(a.receiver.received).toHaveLength(1);

    expect(await waitFor(() => b.receiver.received.length > 0)).toBe(true);
    await new Promise((r) => setTimeout(r, 800)); // nothing more arrives
    expect(b.receiver.received).toHaveLength(1);
    const payload = verified(b, b.receiver.received[0]!);
    expect(payload.workspace_id).toBe(ws.id);
    expect(payload.data).toEqual({
      subscription_id: a.id, trigger: "SCALE_AI_TASK_COMPLETED", target_url: a.receiver.url, reason: sub.disabled_reason, disabled_at: expect.any(String),
    });
    expect(new Date(payload.data.disabled_at).toISOString()).toBe(payload.data.disabled_at);
    // the disabled subscription's signing secret is nowhere in it
    expect(b.receiver.received[0]!.raw).not.toContain(a.secret);
    expect(filtered.receiver.received).toEqual([]);
    expect(stranger.receiver.received).toEqual([]);
    // one event, keyed by the subscription and the time it was disabled, in this workspace only
    const { rows } = await s.db.pool.query<{ workspace_id: string; dedup_key: string; source: string }>(
      "SELECT workspace_id, dedup_key, source FROM trigger_event WHERE trigger = $1 AND data->>'subscription_id' = $2", [SUBSCRIPTION_DISABLED_TRIGGER, a.id]);
    expect(rows).toEqual([{ workspace_id: ws.id, dedup_key: subscriptionDisabledDedupKey(a.id, new Date(payload.data.disabled_at)), source: "platform" }]);
    // the event log lists it with its delivery to B (the filtered subscription has none)
    const event = await waitFor(async () => {
      const e = await api(ws.apiKey, "GET", `/v1/events/${payload.id}`);
      return e.body.event.deliveries[0]?.status === "succeeded" ? e : null;
    });
    expect(event!.body.event.deliveries.map((d: any) => d.subscription_id)).toEqual([b.id]);
    expect((await api(other.apiKey, "GET", `/v1/events/${payload.id}`)).status).toBe(404);
  });

  it("is emitted when a subscription fails past the limit; a subscriber disabled by it holds its own event", async () => {
    const ws = await connect("chain");
    const failing = await subscribe(ws.apiKey, "SCALE_AI_TASK_COMPLETED", () => ({ status: 503 }));
    // The subscription has been failing for two minutes already (past this stack's 60 s limit).
    await s.db.pool.query(`UPDATE trigger_subscription SET failing_since = now() - interval '2 minutes' WHERE id = $1`, [failing.id]);
    // It listens to NAGENT_SUBSCRIPTION_DISABLED and answers 410: disabled by the first one, its own event is held.
    const watcher = await subscribe(ws.apiKey, SUBSCRIPTION_DISABLED_TRIGGER, () => ({ status: 410 }));
    const b = await subscribe(ws.apiKey, SUBSCRIPTION_DISABLED_TRIGGER);

    await completeTask(ws.apiKey);
    const first = await disabled(ws.apiKey, failing.id);
    expect(first.disabled_reason).toMatch(/without a success/);
    const second = await disabled(ws.apiKey, watcher.id);
    expect(second.disabled_reason).toMatch(/410/);

    expect(await waitFor(() => b.receiver.received.length >= 2)).toBe(true);
    await new Promise((r) => setTimeout(r, 800));
    const got = b.receiver.received.map((r) => verified(b, r).data);
    expect(got.map((d: any) => [d.subscription_id, d.reason])).toEqual([[failing.id, first.disabled_reason], [watcher.id, second.disabled_reason]]);
    // the watcher received the first event only (and answered 410); its own is held, never attempted
    expect(watcher.receiver.received).toHaveLength(1);
    expect(verified(watcher, watcher.receiver.received[0]!).data.subscription_id).toBe(failing.id);
    const held = await s.db.pool.query<{ status: string; attempts_count: number; next_attempt_at: Date | null }>(
      `SELECT d.status, d.attempts_count, d.next_attempt_at FROM trigger_delivery d JOIN trigger_event e ON e.id = d.event_id
        WHERE d.subscription_id = $1 AND e.data->>'subscription_id' = $2`, [watcher.id, watcher.id]);
    expect(held.rows).toEqual([{ status: "pending", attempts_count: 0, next_attempt_at: null }]);
  });

  it("is counted in the events metric", async () => {
    await new Promise((r) => setTimeout(r, 300)); // the recorders flush every 200 ms
    const text = (await s.app.inject({ method: "GET", url: "/metrics" })).body;
    const count = Number(/^nagent_trigger_events_total\{trigger="NAGENT_SUBSCRIPTION_DISABLED",source="platform"\} (\d+)$/m.exec(text)?.[1] ?? "NaN");
    expect(count).toBe(3);
  });
});
