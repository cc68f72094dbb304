import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { Webhook } from "standardwebhooks";
import { createWebhookHandler, verifyWebhook, WebhookVerificationError, type WebhookEvent } from "@nagent/sdk";

/**
 * Trigger deliveries are signed per Standard Webhooks. The signing side here is the reference implementation (the
 * `standardwebhooks` package), so the SDK is checked against the specification, not against itself.
 */
const secret = `whsec_${randomBytes(32).toString("base64")}`;
const signer = new Webhook(secret);

function delivery(event: object, options: { at?: Date; id?: string; body?: string } = {}) {
  const id = options.id ?? `msg_${randomBytes(8).toString("hex")}`;
  const at = options.at ?? new Date();
  const body = options.body ?? JSON.stringify(event);
  const headers = { "webhook-id": id, "webhook-timestamp": String(Math.floor(at.getTime() / 1000)), "webhook-signature": signer.sign(id, at, body) };
  return { headers, body };
}

const EVENT = {
  type: "SCALE_AI_TASK_COMPLETED",
  timestamp: "2026-12-01T10:00:00.000Z",
  id: "evt_1",
  workspace_id: "00000000-0000-4000-8000-00000000000a",
  data: { task_id: "t1", task: { task_id: "t1", status: "completed" } },
};

describe("verifyWebhook", () => {
  it("accepts a delivery signed by the reference implementation and returns the event", async () => {
    const { headers, body } = delivery(EVENT);
    const event: WebhookEvent = await verifyWebhook(secret, headers, body);
    expect(event).toEqual(EVENT);
    // Bytes, fetch Headers and Node's array-valued headers work too.
    expect(await verifyWebhook(secret, new Headers(headers), new TextEncoder().encode(body))).toEqual(EVENT);
  });

  it("accepts any of several space-separated signatures (secret rotation)", async () => {
    const { headers, body } = delivery(EVENT);
    const other = new Webhook(`whsec_${randomBytes(32).toString("base64")}`).sign(headers["webhook-id"], new Date(Number(headers["webhook-timestamp"]) * 1000), body);
    expect(await verifyWebhook(secret, { ...headers, "webhook-signature": `${other} ${headers["webhook-signature"]}` }, body)).toEqual(EVENT);
    expect(await verifyWebhook(secret, { ...headers, "webhook-signature": `v2,abc ${headers["webhook-signature"]}` }, body)).toEqual(EVENT);
  });

  it("refuses a tampered body, a wrong secret, a changed id, an old or future timestamp, and missing headers", async () => {
    const { headers, body } = delivery(EVENT);
    const refused = (h: Record<string, string>, b: string, s = secret) => verifyWebhook(s, h, b).then(() => "accepted", (e: unknown) => (e instanceof WebhookVerificationError ? e.message : `other: ${String(e)}`));

    expect(await refused(headers, body.replace("completed", "errored"))).toBe("No matching signature.");
    expect(await refused(headers, body, `whsec_${randomBytes(32).toString("base64")}`)).toBe("No matching signature.");
    expect(await refused({ ...headers, "webhook-id": "msg_other" }, body)).toBe("No matching signature.");
    expect(await refused({ ...headers, "webhook-signature": headers["webhook-signature"].replace("v1,", "v2,") }, body)).toBe("No matching signature.");

    const old = delivery(EVENT, { at: new Date(Date.now() - 6 * 60 * 1000) });
    expect(await refused(old.headers, old.body)).toMatch(/outside the tolerance/);
    const future = delivery(EVENT, { at: new Date(Date.now() + 6 * 60 * 1000) });
    expect(await refused(future.headers, future.body)).toMatch(/outside the tolerance/);
    // Within the 5-minute tolerance is fine.
    const recent = delivery(EVENT, { at: new Date(Date.now() - 4 * 60 * 1000) });
    expect(await refused(recent.headers, recent.body)).toBe("accepted");

    const { "webhook-signature": _dropped, ...unsigned } = headers;
    expect(await refused(unsigned, body)).toMatch(/Missing/);
    expect(await refused(headers, body, "whsec_")).toMatch(/not whsec_/);
  });

  it("refuses a correctly signed body that is not a trigger event", async () => {
    const { headers, body } = delivery({}, { body: JSON.stringify({ hello: "world" }) });
    await expect(verifyWebhook(secret, headers, body)).rejects.toBeInstanceOf(WebhookVerificationError);
  });
});

describe("createWebhookHandler", () => {
  it("verifies, then calls the fallback for events of triggers this SDK was not generated with", async () => {
    const seen: string[] = [];
    const handle = createWebhookHandler(secret, {}, (event) => void seen.push(event.type));
    const { headers, body } = delivery(EVENT);
    await handle(headers, body);
    expect(seen).toEqual(["SCALE_AI_TASK_COMPLETED"]);
    await expect(handle(headers, `${body} `)).rejects.toBeInstanceOf(WebhookVerificationError);
    expect(seen).toHaveLength(1);
  });
});
