// Data-key rotation across the whole platform: every secret sealed with a workspace's data key (a connection's
// credentials, a subscription's signing secrets, a queued run's sensitive input) keeps working after
// POST /v1/workspaces/:id/rotate-key, against the real API, worker, Scale sandbox, PostgreSQL and Redis.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CONNECTION_CREDENTIALS, envelopeKeyVersion, RUN_SENSITIVE_INPUT, TRIGGER_SIGNING_SECRET } from "@nagent/vault";
import { bearer } from "../../support/app";
import { executeAsync, getRun, waitForEnd } from "../../support/execution";
import { createTestStack, FAST_TRIGGER_RETRIES, type TestStack } from "../../support/stack";
import { connectedWorkspace } from "../../support/workspace";
import { startReceiver, waitFor, type Receiver } from "../../support/webhook-receiver";

let s: TestStack;
let receiver: Receiver;

beforeAll(async () => {
  s = await createTestStack({ worker: { triggers: FAST_TRIGGER_RETRIES } });
  receiver = await startReceiver();
}, 60_000);

afterAll(async () => {
  await receiver?.close();
  await s?.close();
});

async function api(apiKey: string, method: "GET" | "POST", url: string, payload?: unknown) {
  const res = await s.app.inject({ method, url, headers: bearer(apiKey), ...(payload === undefined ? {} : { payload: payload as object }) });
  return { status: res.statusCode, body: res.body ? res.json() : null };
}

describe("a workspace data-key rotation", () => {
  it("re-seals the connection, the subscription's secrets and a queued run's input: deliveries verify and the run succeeds with the real value", async () => {
    const ws = await connectedWorkspace(s, "rotation-e2e", { projects: ["kitten_labeling"] });

    // A subscription whose secret was rotated: the previous one is in its grace period (deliveries carry both).
    const created = await api(ws.apiKey, "POST", "/v1/trigger-subscriptions", { trigger: "SCALE_AI_TASK_COMPLETED", target: { url: receiver.url } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const subscriptionId = created.body.subscription.id as string;
    const previousSecret = created.body.secret as string;
    const rotatedSecret = await api(ws.apiKey, "POST", `/v1/trigger-subscriptions/${subscriptionId}/rotate-secret`, { grace_period_seconds: 3600 });
    expect(rotatedSecret.status, JSON.stringify(rotatedSecret.body)).toBe(200);
    const secret = rotatedSecret.body.secret as string;

    // A run queued (the queue is paused) with a sensitive value sealed in run.sealed_input.
    const signature = `sig${randomBytes(16).toString("hex")}`;
    const fileUrl = `https://example.com/images/kitten_rotated.png?X-Amz-Signature=${signature}`;
    await s.infra.producer.queue.pause();
    let runId: string;
    try {
      runId = await executeAsync(s, ws.apiKey, "SCALE_AI_IMPORT_FILE", { file_url: fileUrl, project_name: "kitten_labeling" });
      expect((await getRun(s, ws.apiKey, runId)).status).toBe("queued");
      const before = await sealed(ws.id, subscriptionId, runId);
      expect([before.connection, before.secret, before.previous, before.run].map((e) => e && envelopeKeyVersion(e))).toEqual([1, 1, 1, 1]);

      const rotated = await s.app.inject({ method: "POST", url: `/v1/workspaces/${ws.id}/rotate-key`, headers: bearer(s.config.adminToken) });
      expect(rotated.statusCode, rotated.body).toBe(200);
      expect(rotated.json()).toEqual({
        version: 2, reencrypted: 4, unreadable: [],
        reencrypted_by_kind: { connection: 1, subscription_secret: 1, subscription_previous_secret: 1, run_input: 1 },
      });
      const { rows: keys } = await s.db.pool.query<{ version: number }>(`SELECT version FROM workspace_key WHERE workspace_id = $1 ORDER BY version`, [ws.id]);
      expect(keys.map((k) => k.version)).toEqual([2]); // version 1 is deleted

      // Everything opens with version 2, in its own context.
      const after = await sealed(ws.id, subscriptionId, runId);
      expect([after.connection, after.secret, after.previous, after.run].map((e) => e && envelopeKeyVersion(e))).toEqual([2, 2, 2, 2]);
      const vault = s.infra.vault;
      expect(JSON.parse((await vault.open(ws.id, after.connection!, { connectionId: ws.connectionId, purpose: CONNECTION_CREDENTIALS })).toString())).toMatchObject({ api_key: ws.scaleKey });
      expect((await vault.open(ws.id, after.secret!, { connectionId: subscriptionId, purpose: TRIGGER_SIGNING_SECRET })).toString()).toBe(secret);
      expect((await vault.open(ws.id, after.previous!, { connectionId: subscriptionId, purpose: TRIGGER_SIGNING_SECRET })).toString()).toBe(previousSecret);
      expect((await vault.open(ws.id, after.run!, { connectionId: runId, purpose: RUN_SENSITIVE_INPUT })).toString()).toContain(fileUrl);

      // A delivery signed after the rotation verifies with the subscription's secret, and with the previous one.
      const test = await api(ws.apiKey, "POST", `/v1/trigger-subscriptions/${subscriptionId}/test`);
      expect(test.status, JSON.stringify(test.body)).toBe(202);
      const got = await waitFor(() => receiver.received.find((r) => r.headers["webhook-id"] === test.body.delivery_id));
      expect(got, "the test delivery arrived").toBeTruthy();
      expect(receiver.verify(secret, got!)).toMatchObject({ id: test.body.event_id });
      expect(receiver.verify(previousSecret, got!)).toMatchObject({ id: test.body.event_id });
    } finally {
      await s.infra.producer.queue.resume();
    }

    // The queued run executes: the sandbox accepts only an http(s) URL and derives the MIME type from its path, so
    // image/png shows the real value (not "[redacted]") reached it.
    const run = await waitForEnd(s, ws.apiKey, runId!);
    expect(run.status, JSON.stringify(run)).toBe("succeeded");
    expect(run.output).toMatchObject({ successful: true, data: { mime_type: "image/png" } });
    expect(ws.requests("POST /v1/files/import")).toBe(1);
    expect((await sealed(ws.id, subscriptionId, runId!)).run).toBeNull(); // cleared when the run ended
    expect(s.logs.filter((l) => l.includes(signature))).toEqual([]);
  });
});

/** The workspace's sealed values as stored. */
async function sealed(workspaceId: string, subscriptionId: string, runId: string) {
  const one = async <T>(sql: string, params: unknown[]): Promise<T> => (await s.db.pool.query(sql, params)).rows[0] as T;
  const c = await one<{ ciphertext: Buffer }>(`SELECT ciphertext FROM connection WHERE workspace_id = $1`, [workspaceId]);
  const sub = await one<{ secret_ciphertext: Buffer; previous_secret_ciphertext: Buffer | null }>(
    `SELECT secret_ciphertext, previous_secret_ciphertext FROM trigger_subscription WHERE id = $1 AND workspace_id = $2`, [subscriptionId, workspaceId]);
  const run = await one<{ sealed_input: Buffer | null }>(`SELECT sealed_input FROM run WHERE id = $1 AND workspace_id = $2`, [runId, workspaceId]);
  return { connection: c.ciphertext, secret: sub.secret_ciphertext, previous: sub.previous_secret_ciphertext, run: run.sealed_input };
}
