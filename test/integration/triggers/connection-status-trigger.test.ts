// Issues 12 + 14: every connection status transition is published as the platform trigger
// NAGENT_CONNECTION_STATUS_CHANGED. Real services: a run meets the sandbox's 401 (revoked key) and the worker moves the
// connection to invalid, the probe brings it back, the API's connection test refuses it; deliveries go through BullMQ
// to receivers on loopback, verified with standardwebhooks. A transition whose emission was skipped (the process died
// right after the commit) is emitted by the trigger maintenance catch-up, once.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CONNECTION_STATUS_CHANGED_TRIGGER, recordConnectionTransition, uuidv7 } from "@nagent/db";
import { connectionEventDedupKey, createConnectionStatusCatchUp } from "@nagent/triggers";
import { bearer } from "../../support/app";
import { createTestStack, FAST_TRIGGER_RETRIES, type TestStack } from "../../support/stack";
import { executeAsync, waitForEnd } from "../../support/execution";
import { connectedWorkspace, type ConnectedWorkspace } from "../../support/workspace";
import { startReceiver, waitFor, type Received, type Receiver } from "../../support/webhook-receiver";

let s: TestStack;
const receivers: Receiver[] = [];
let ws: ConnectedWorkspace;
let all: { receiver: Receiver; secret: string };
let toInvalid: { receiver: Receiver; secret: string };
let stranger: { receiver: Receiver; secret: string };

async function subscribe(apiKey: string, extra: Record<string, unknown> = {}) {
  const receiver = await startReceiver();
  receivers.push(receiver);
  const res = await s.app.inject({ method: "POST", url: "/v1/trigger-subscriptions", headers: bearer(apiKey), payload: { trigger: CONNECTION_STATUS_CHANGED_TRIGGER, target: { url: receiver.url }, ...extra } });
  expect(res.statusCode, res.body).toBe(201);
  return { receiver, secret: res.json().secret as string };
}

/** A delivery's payload, after checking its Standard Webhooks signature and that `data` is of the trigger's schema. */
function verified(sub: { secret: string; receiver: Receiver }, r: Received): any {
  const payload = sub.receiver.verify(sub.secret, r) as any;
  expect(payload.type).toBe(CONNECTION_STATUS_CHANGED_TRIGGER);
  expect(s.infra.registry.validateTriggerPayload(CONNECTION_STATUS_CHANGED_TRIGGER, payload.data)).toMatchObject({ valid: true });
  return payload;
}

const eventsWithKey = async (workspaceId: string, connectionEventId: string) =>
  (await s.db.pool.query<{ id: string; source: string; connection_id: string; data: any }>(
    "SELECT id, source, connection_id, data FROM trigger_event WHERE workspace_id = $1 AND dedup_key = $2", [workspaceId, connectionEventDedupKey(connectionEventId)])).rows;

const connectionEvents = async (workspaceId: string) =>
  (await s.db.pool.query<{ id: string; to_status: string }>("SELECT id, to_status FROM connection_event WHERE workspace_id = $1 ORDER BY created_at, id", [workspaceId])).rows;

const settle = () => new Promise((r) => setTimeout(r, 800));

beforeAll(async () => {
  s = await createTestStack({
    worker: {
      // A fast probe: a round every 200 ms, a bad connection's first probe 300 ms after the transition.
      probe: { everyMs: 200, baseMs: 300, capMs: 2_000 },
      // The catch-up is called by the tests (one round at a time), not on its schedule; no grace period.
      triggers: { ...FAST_TRIGGER_RETRIES, connectionEventsEveryMs: 600_000, connectionEventsGraceMs: 0 },
    },
  });
  ws = await connectedWorkspace(s, "status-trigger");
  all = await subscribe(ws.apiKey);
  toInvalid = await subscribe(ws.apiKey, { filter: { to: "invalid" } });
  const other = await connectedWorkspace(s, "status-trigger-other");
  stranger = await subscribe(other.apiKey);
}, 60_000);

afterAll(async () => {
  await Promise.all(receivers.map((r) => r.close()));
  await s?.close();
});

describe("NAGENT_CONNECTION_STATUS_CHANGED", () => {
  it("a run meeting a revoked key: the move to invalid reaches each matching subscriber exactly once, signed, of the trigger's schema", async () => {
    s.sandbox.control.removeKey(ws.scaleKey);
    // Several runs meet the 401 at about the same time: one transition, one event, one delivery per subscription.
    const ids = await Promise.all(Array.from({ length: 3 }, (_, i) => executeAsync(s, ws.apiKey, "SCALE_AI_LIST_BATCHES", { offset: i })));
    for (const id of ids) expect((await waitForEnd(s, ws.apiKey, id)).status).toBe("failed");
    expect(await waitFor(() => all.receiver.delivered().length >= 1 && toInvalid.receiver.delivered().length >= 1)).toBe(true);
    await settle();
    expect(all.receiver.received).toHaveLength(1);
    expect(toInvalid.receiver.received).toHaveLength(1);

    const [transition] = await connectionEvents(ws.id);
    const payload = verified(all, all.receiver.received[0]!);
    expect(payload.workspace_id).toBe(ws.id);
    expect(payload.data).toMatchObject({ connection_id: ws.connectionId, integration: "scale_ai", from: "active", to: "invalid" });
    expect(payload.data.reason).toContain("401");
    expect(verified(toInvalid, toInvalid.receiver.received[0]!).id).toBe(payload.id);
    // One stored event, of the platform, keyed by the transition's connection_event id.
    const stored = await eventsWithKey(ws.id, transition!.id);
    expect(stored).toEqual([expect.objectContaining({ id: payload.id, source: "platform", connection_id: ws.connectionId })]);
    expect(stranger.receiver.received).toHaveLength(0);
  }, 60_000);

  it("the probe bringing the connection back: a second delivery (to active), not to the {to: invalid} subscription", async () => {
    s.sandbox.control.addKey(ws.scaleKey);
    expect(await waitFor(() => all.receiver.delivered().length >= 2, 15_000)).toBe(true);
    await settle();
    expect(all.receiver.received).toHaveLength(2);
    const payload = verified(all, all.receiver.received[1]!);
    expect(payload.data).toMatchObject({ connection_id: ws.connectionId, from: "invalid", to: "active" });
    expect(payload.data.reason).toContain("probe");
    expect(toInvalid.receiver.received).toHaveLength(1);
    expect(stranger.receiver.received).toHaveLength(0);
  }, 30_000);

  it("a transition the API records (a refused connection test) is published too", async () => {
    const apiWs = await connectedWorkspace(s, "status-trigger-api");
    const sub = await subscribe(apiWs.apiKey, { filter: { connection_id: apiWs.connectionId } });
    s.sandbox.control.removeKey(apiWs.scaleKey);
    const res = await s.app.inject({ method: "POST", url: `/v1/connections/${apiWs.connectionId}/test`, headers: bearer(apiWs.apiKey) });
    expect(res.statusCode, res.body).toBeLessThan(500);
    expect(await waitFor(() => sub.receiver.delivered().length >= 1)).toBe(true);
    await settle();
    expect(sub.receiver.received).toHaveLength(1);
    expect(verified(sub, sub.receiver.received[0]!).data).toMatchObject({ connection_id: apiWs.connectionId, from: "active", to: "invalid" });
    // Not the other workspaces' subscribers.
    expect(all.receiver.received).toHaveLength(2);
    expect(stranger.receiver.received).toHaveLength(0);
  }, 30_000);

  it("a transition whose emission was skipped (the process died after the commit) is delivered by the catch-up round, once", async () => {
    // recordConnectionTransition alone: what a process that died right after the commit leaves behind.
    const t = await recordConnectionTransition(s.db.pool, { workspaceId: ws.id, connectionId: ws.connectionId, to: "degraded", from: ["active"], reason: "skipped emission", firstProbeInMs: 600_000 });
    expect(t).not.toBeNull();
    expect(await eventsWithKey(ws.id, t!.eventId)).toHaveLength(0);

    const round = await s.workers.triggers.catchUpConnectionEvents();
    expect(round).toMatchObject({ emitted: 1, found: 1 });
    expect(await waitFor(() => all.receiver.delivered().length >= 3)).toBe(true);
    const payload = verified(all, all.receiver.received[2]!);
    expect(payload.data).toMatchObject({ connection_id: ws.connectionId, from: "active", to: "degraded", reason: "skipped emission", changed_at: t!.changedAt.toISOString() });

    // A late emitter (or a second round) stores nothing more: the dedup key is the connection_event id.
    await s.infra.connectionStatus(t!);
    expect(await s.workers.triggers.catchUpConnectionEvents()).toMatchObject({ emitted: 0, found: 0 });
    await settle();
    expect(await eventsWithKey(ws.id, t!.eventId)).toHaveLength(1);
    expect(all.receiver.received).toHaveLength(3);
    expect(toInvalid.receiver.received).toHaveLength(1);
    expect(stranger.receiver.received).toHaveLength(0);
  }, 30_000);

  it("the catch-up takes the last 24 h only, oldest first, a bounded batch per round; the whole window every few rounds", async () => {
    const insert = async (ago: string, to: string) => {
      const id = uuidv7();
      await s.db.pool.query(
        `INSERT INTO connection_event (id, workspace_id, connection_id, from_status, to_status, reason, created_at)
         VALUES ($1, $2, $3, 'active', $4, 'inserted', now() - $5::interval)`, [id, ws.id, ws.connectionId, to, ago]);
      return id;
    };
    const tooOld = await insert("25 hours", "degraded");
    const recent = [await insert("3 hours", "degraded"), await insert("2 hours", "active"), await insert("1 hour", "degraded")];
    const catchUp = createConnectionStatusCatchUp({ pool: s.db.pool, matcher: s.infra.registry, producer: s.infra.deliveries, logger: s.infra.logger, options: { batch: 2, graceMs: 0, fullScanEvery: 3 } });

    // A first round checks the whole window, and so does the next while the batch was full.
    expect(await catchUp()).toEqual({ emitted: 2, found: 2, full: true });
    expect((await eventsWithKey(ws.id, recent[0]!)).length + (await eventsWithKey(ws.id, recent[1]!)).length).toBe(2);
    expect(await eventsWithKey(ws.id, recent[2]!)).toHaveLength(0);
    expect(await catchUp()).toEqual({ emitted: 1, found: 1, full: true });
    expect(await catchUp()).toEqual({ emitted: 0, found: 0, full: false });
    expect(await eventsWithKey(ws.id, tooOld)).toHaveLength(0);
    // A transition that appears behind the incremental bound (its statement committed very late) is found by the
    // next full round.
    const late = await insert("2 hours", "active");
    expect(await catchUp()).toEqual({ emitted: 0, found: 0, full: false });
    expect(await catchUp()).toEqual({ emitted: 1, found: 1, full: true });
    expect(await eventsWithKey(ws.id, late)).toHaveLength(1);

    expect(await waitFor(() => all.receiver.delivered().length >= 7)).toBe(true);
    await settle();
    expect(all.receiver.received).toHaveLength(7);
    const delivered = all.receiver.received.slice(3).map((r) => verified(all, r).data.to).sort();
    expect(delivered).toEqual(["active", "active", "degraded", "degraded"]);
    expect(toInvalid.receiver.received).toHaveLength(1);
    expect(stranger.receiver.received).toHaveLength(0);
  }, 30_000);
});
