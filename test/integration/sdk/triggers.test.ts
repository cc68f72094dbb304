// Issue 15 after issues 12 and 14: triggers end to end through `@nagent/sdk` only. The Scale sandbox calls the API
// back over HTTP, the trigger workers deliver to a receiver on loopback, and the receiver verifies each real delivery
// with the SDK's own `createWebhookHandler` / `verifyWebhook` (no other Standard Webhooks implementation involved).
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  BadRequestError, ConflictError, Nagent, NotFoundError, WebhookVerificationError, createWebhookHandler, verifyWebhook, type HeadersLike, type TriggerEvent,
  type TriggerPayload, type WebhookEvent,
} from "@nagent/sdk";
import { createTestStack, FAST_TRIGGER_RETRIES, type TestStack } from "../../support/stack";
import { startWebhookReceiver, waitFor } from "./receiver";

const CALLBACK_AUTH_KEY = `cbk_${randomBytes(12).toString("hex")}`;

let s: TestStack;
let baseUrl: string;
let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
let client: Nagent;
let workspaceId: string;
let connectionId: string;
let subscriptionId: string;
let secret: string;
/** What the SDK handler was given, by trigger: the typed payload and its event. */
const completed: { taskId: string; status: string | undefined; event: TriggerEvent<"SCALE_AI_TASK_COMPLETED", TriggerPayload<"SCALE_AI_TASK_COMPLETED">> }[] = [];
const others: WebhookEvent[] = [];

/** The sandbox's control API (HTTP, as an operator would drive it). */
async function sandbox(method: "POST" | "PUT" | "DELETE", path: string, body?: unknown): Promise<void> {
  const res = await fetch(`${s.sandbox.url}${path}`, { method, headers: { "content-type": "application/json" }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  expect(res.status, `${method} ${path}: ${await res.clone().text()}`).toBeLessThan(300);
}

function headersOf(d: { headers: Record<string, string | string[] | undefined> }): HeadersLike {
  return d.headers;
}

beforeAll(async () => {
  // The API listens on the port of its public URL, which the inbound callback URL given to Scale is built from.
  s = await createTestStack({ listen: true, env: { NAGENT_TRIGGER_DELIVERY_TIMEOUT_MS: "2000" }, worker: { triggers: FAST_TRIGGER_RETRIES } });
  baseUrl = s.baseUrl!;
  receiver = await startWebhookReceiver();
}, 60_000);

afterAll(async () => {
  await receiver?.close();
  await s?.close();
});

describe("triggers through @nagent/sdk", () => {
  it("a task completed in the sandbox reaches the subscriber, verified by the SDK's handler with data typed", async () => {
    const admin = new Nagent({ baseUrl, apiKey: s.config.adminToken });
    const created = await admin.workspaces.create({ name: "SDK triggers" });
    workspaceId = created.workspace.id;
    client = new Nagent({ baseUrl, apiKey: created.api_key, retry: { baseDelayMs: 10 } });

    // Scale signs its callbacks with the key the connection knows (the sandbox's setting, through its control API).
    await sandbox("PUT", "/sandbox/settings", { callback_auth_key: CALLBACK_AUTH_KEY });
    const connection = await client.connections.create({ integration: "scale_ai", credentials: { api_key: s.liveKey, callback_auth_key: CALLBACK_AUTH_KEY } });
    connectionId = connection.id;
    expect(JSON.stringify(connection)).not.toContain(CALLBACK_AUTH_KEY);

    // The catalogue: the trigger, its example typed as its payload.
    const listed = await client.triggers.list({ integration: "scale_ai" }).toArray();
    expect(listed.map((t) => t.slug)).toContain("SCALE_AI_TASK_COMPLETED");
    expect(listed.every((t) => t.integration === "scale_ai")).toBe(true);
    // Paged with a cursor: two per page, the same triggers in the same order.
    const pages: string[][] = [];
    for await (const page of client.triggers.list({ integration: "scale_ai", limit: 2 }).pages()) pages.push(page.items.map((t) => t.slug));
    expect(pages.length).toBe(Math.ceil(listed.length / 2));
    expect(pages.flat()).toEqual(listed.map((t) => t.slug));
    const trigger = await client.triggers.get("SCALE_AI_TASK_COMPLETED");
    expect(trigger).toMatchObject({ slug: "SCALE_AI_TASK_COMPLETED", integration: "scale_ai", source: "callback" });
    const example = trigger.examples[0]!;
    expect(example.task.task_id).toEqual(expect.any(String));
    await expect(client.triggers.get("SCALE_AI_NOT_A_TRIGGER" as "SCALE_AI_TASK_COMPLETED")).rejects.toMatchObject({ code: "TRIGGER_NOT_FOUND", status: 404 });

    const subscribed = await client.subscriptions.create({ trigger: "SCALE_AI_TASK_COMPLETED", connection_id: connectionId, target: { url: receiver.url } });
    expect(subscribed.secret).toMatch(/^whsec_/);
    expect(subscribed.subscription).toMatchObject({ trigger: "SCALE_AI_TASK_COMPLETED", connection_id: connectionId, status: "active", target: { url: receiver.url } });
    expect(subscribed.subscription.secret_hint).not.toContain(subscribed.secret.slice(6, 20));
    subscriptionId = subscribed.subscription.id;
    secret = subscribed.secret;
    // The secret is answered once: reading the subscription again shows only its hint.
    expect(JSON.stringify(await client.subscriptions.get(subscriptionId))).not.toContain(secret);

    // The receiver, as a customer writes it: the SDK's handler, typed by the generated trigger map.
    const handle = createWebhookHandler(secret, {
      SCALE_AI_TASK_COMPLETED: (data, event) => {
        completed.push({ taskId: data.task.task_id, status: data.task.status, event });
      },
    }, (event) => {
      others.push(event);
    });
    receiver.handleWith((headers, raw) => handle(headers, raw));

    const task = await client.actions.execute("SCALE_AI_CREATE_TEXT_COLLECTION_TASK", {
      fields: [{ type: "text", field_id: "answer" }],
      attachments: [{ type: "text", content: "Is this a cat?" }],
    });
    if (!task.successful) throw new Error(`create task: ${JSON.stringify(task.error)}`);
    const taskId = task.data.task_id;
    expect(task.data.status).toBe("pending");

    await sandbox("POST", `/sandbox/tasks/${taskId}/complete`, { response: { answer: "yes" } });
    expect(await waitFor(() => completed.length >= 1)).toBe(true);
    await new Promise((r) => setTimeout(r, 500)); // nothing more arrives
    expect(completed).toHaveLength(1);
    expect(others).toHaveLength(0);
    const [got] = completed;
    expect(got).toMatchObject({ taskId, status: "completed", event: { type: "SCALE_AI_TASK_COMPLETED", workspace_id: workspaceId } });
    expect(got!.event.data.task_id).toBe(taskId);
    expect(receiver.refusals).toEqual([]);

    // The delivery as received, byte for byte: verifyWebhook accepts it, and refuses it tampered or with another secret.
    const delivery = receiver.received.find((d) => d.status === 204)!;
    expect(delivery.headers["webhook-id"]).toEqual(expect.any(String));
    const verified = await verifyWebhook(secret, headersOf(delivery), delivery.raw);
    expect(verified).toEqual(got!.event);
    await expect(verifyWebhook(secret, headersOf(delivery), delivery.raw.replace(taskId, taskId.replace(/.$/, (c) => (c === "0" ? "1" : "0"))))).rejects.toBeInstanceOf(WebhookVerificationError);
    await expect(verifyWebhook(`whsec_${randomBytes(24).toString("base64")}`, headersOf(delivery), delivery.raw)).rejects.toBeInstanceOf(WebhookVerificationError);
    await expect(verifyWebhook(secret, headersOf(delivery), delivery.raw, { now: new Date(Date.now() + 3_600_000) })).rejects.toBeInstanceOf(WebhookVerificationError);

    // The event log has it, with the delivery whose id is the webhook-id.
    const event = await waitFor(async () => {
      const e = await client.events.get(got!.event.id);
      return e.deliveries[0]?.status === "succeeded" ? e : null;
    });
    expect(event).toMatchObject({ id: got!.event.id, trigger: "SCALE_AI_TASK_COMPLETED", connection_id: connectionId, source: "callback" });
    expect(event!.deliveries).toHaveLength(1);
    expect(event!.deliveries[0]).toMatchObject({ id: delivery.headers["webhook-id"], subscription_id: subscriptionId, status: "succeeded", attempts_count: 1 });
    expect(event!.deliveries[0]!.attempts[0]).toMatchObject({ number: 1, outcome: "succeeded", response_status: 204 });
  });

  it("subscriptions.test sends the trigger's example, verified the same way; events.list shows both events", async () => {
    const before = completed.length;
    const sent = await client.subscriptions.test(subscriptionId);
    expect(sent).toEqual({ event_id: expect.any(String), delivery_id: expect.any(String) });
    expect(await waitFor(() => completed.length > before)).toBe(true);
    const test = completed.at(-1)!;
    expect(test.event).toMatchObject({ id: sent.event_id, type: "SCALE_AI_TASK_COMPLETED", workspace_id: workspaceId });
    const example = (await client.triggers.get("SCALE_AI_TASK_COMPLETED")).examples[0]!;
    expect(test.event.data).toEqual(example);
    const delivery = receiver.received.at(-1)!;
    expect(delivery).toMatchObject({ status: 204, headers: { "webhook-id": sent.delivery_id } });
    expect((await verifyWebhook(secret, headersOf(delivery), delivery.raw)).id).toBe(sent.event_id);

    const events = await client.events.list().toArray();
    expect(events.map((e) => [e.source, e.trigger])).toEqual([["test", "SCALE_AI_TASK_COMPLETED"], ["callback", "SCALE_AI_TASK_COMPLETED"]]);
    expect(events[0]!.id).toBe(sent.event_id);
    expect(events[1]!.id).toBe(completed[0]!.event.id);
    // Filtered, and paged with a cursor (one per page).
    expect((await client.events.list({ subscription_id: subscriptionId, limit: 1 }).toArray()).map((e) => e.id)).toEqual(events.map((e) => e.id));
    const pages: number[] = [];
    for await (const page of client.events.list({ limit: 1 }).pages()) pages.push(page.items.length);
    expect(pages).toEqual([1, 1]);
    expect(await client.events.list({ trigger: "SCALE_AI_TASK_ERRORED" }).toArray()).toEqual([]);
  });

  it("rotates the secret (old one refused once the grace is 0), redelivers with the same webhook-id, pauses, resumes, deletes", async () => {
    const rotated = await client.subscriptions.rotateSecret(subscriptionId, { grace_period_seconds: 0 });
    expect(rotated.secret).toMatch(/^whsec_/);
    expect(rotated.secret).not.toBe(secret);
    const oldSecret = secret;
    secret = rotated.secret;
    const received: WebhookEvent[] = [];
    const handle = createWebhookHandler(secret, {}, (event) => {
      received.push(event);
    });
    receiver.handleWith((headers, raw) => handle(headers, raw));

    const first = completed[0]!.event;
    const count = receiver.received.length;
    expect(await client.events.redeliver(first.id)).toEqual({ deliveries: 1 });
    expect(await waitFor(() => received.length >= 1)).toBe(true);
    expect(received[0]).toMatchObject({ id: first.id, type: "SCALE_AI_TASK_COMPLETED", data: first.data });
    const again = receiver.received.slice(count).find((d) => d.status === 204)!;
    const original = receiver.received.find((d) => d.status === 204)!;
    expect(again.headers["webhook-id"]).toBe(original.headers["webhook-id"]);
    await expect(verifyWebhook(oldSecret, headersOf(again), again.raw)).rejects.toBeInstanceOf(WebhookVerificationError);

    expect((await client.subscriptions.pause(subscriptionId)).status).toBe("paused");
    expect((await client.subscriptions.list({ status: "paused" })).map((x) => x.id)).toEqual([subscriptionId]);
    expect(await client.subscriptions.list({ status: "active" })).toEqual([]);
    expect((await client.subscriptions.resume(subscriptionId)).status).toBe("active");
    await client.subscriptions.delete(subscriptionId);
    await expect(client.subscriptions.get(subscriptionId)).rejects.toBeInstanceOf(NotFoundError);
    // Subscribing to an unknown trigger is refused with the catalogue's code.
    const unknown = client.subscriptions.create({ trigger: "SCALE_AI_NOPE" as "SCALE_AI_TASK_COMPLETED", target: { url: receiver.url } });
    await expect(unknown).rejects.toMatchObject({ code: "TRIGGER_NOT_FOUND" });
  });
});

describe("runs, connections and settings of issue 14 through @nagent/sdk", () => {
  it("runs.reconcile records the outcome of an unknown run (a write whose answer was lost), checked, once", async () => {
    // The sandbox drops the connection after importing the file: the API cannot know, and cannot repeat it safely.
    await sandbox("PUT", `/sandbox/keys/${s.liveKey}/faults`, { faults: [{ route: "POST /v1/files/import", drop_after: true, times: 1 }] });
    const lost = await client.actions.execute("SCALE_AI_IMPORT_FILE", { file_url: "https://example.com/images/kitten_sdk.jpg" });
    expect(lost).toMatchObject({ successful: false, data: null, error: { code: "UPSTREAM_OUTCOME_UNKNOWN", retryable: false } });
    expect((await client.runs.get(lost.run_id)).status).toBe("unknown");
    expect((await client.runs.list({ status: "unknown" }).toArray()).map((r) => r.id)).toEqual([lost.run_id]);

    // Its event stream stays open after the unknown state, until the outcome is recorded.
    const seen: string[] = [];
    const following = (async () => {
      for await (const event of client.runs.events(lost.run_id)) seen.push(`${event.status}:${event.output?.successful}`);
    })();
    expect(await waitFor(() => seen.length >= 1)).toBe(true);
    expect(seen).toEqual(["unknown:false"]);

    // Data that does not match the action's output schema is refused, with pointers.
    const bad = await client.runs.reconcile(lost.run_id, { status: "succeeded", data: { id: 7 } }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(BadRequestError);
    expect(bad).toMatchObject({ status: 400, code: "VALIDATION_FAILED" });

    const data = { id: "file_sdk_1", attachment_url: "scaledata://file_sdk_1", mime_type: "image/jpeg" };
    const reconciled = await client.runs.reconcile(lost.run_id, { status: "succeeded", data });
    expect(reconciled).toMatchObject({ id: lost.run_id, status: "succeeded", output: { successful: true, data, error: null }, reconciled_by: expect.any(String) });
    expect(reconciled.reconciled_at).not.toBeNull();
    await following;
    expect(seen).toEqual(["unknown:false", "succeeded:true"]);
    expect(await client.runs.wait(lost.run_id)).toMatchObject({ successful: true, data });

    // Once: a run that is not unknown (any more) is a ConflictError.
    const again = await client.runs.reconcile(lost.run_id, { status: "failed", error: { message: "Checked: not there." } }).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(ConflictError);
    expect(again).toMatchObject({ status: 409, code: "RUN_NOT_RECONCILABLE" });
    expect((await client.runs.get(lost.run_id)).status).toBe("succeeded");
  });

  it("connections.events pages a connection's status changes (a revoked key: active → invalid)", async () => {
    const key = `test_${randomBytes(8).toString("hex")}`;
    await sandbox("POST", "/sandbox/keys", { key });
    const other = await client.connections.create({ integration: "scale_ai", credentials: { api_key: key }, name: "to revoke" });
    expect(await client.connections.events(other.id).toArray()).toEqual([]);
    await sandbox("DELETE", `/sandbox/keys/${key}`);
    const failed = await client.actions.execute("SCALE_AI_LIST_BATCHES", {}, { connectionId: other.id });
    expect(failed.successful).toBe(false);
    const events = await client.connections.events(other.id, { limit: 1 }).toArray();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ from: "active", to: "invalid" });
    await expect(client.connections.events("00000000-0000-4000-8000-000000000000").first()).rejects.toBeInstanceOf(NotFoundError);
  });

  it("workspace.settings reads and changes the output check", async () => {
    expect(await client.workspace.settings.get()).toEqual({ output_check: "record" });
    expect(await client.workspace.settings.update({ output_check: "strict" })).toEqual({ output_check: "strict" });
    expect(await client.workspace.settings.get()).toEqual({ output_check: "strict" });
    expect(await client.workspace.settings.update({})).toEqual({ output_check: "strict" });
  });
});
