import { WebhookVerificationError } from "./errors.js";
import type { TriggerTypes } from "./generated/triggers.js";

/** A trigger event as delivered to a subscriber, `data` typed by the trigger's payload schema. */
export interface TriggerEvent<K extends string, T> {
  readonly type: K;
  /** The event's id (the same across redeliveries). */
  readonly id: string;
  /** When the event happened (ISO 8601). */
  readonly timestamp: string;
  readonly workspace_id: string;
  readonly data: T;
}

/**
 * Every event a webhook may receive: a union over the generated trigger map, so `switch (event.type)` narrows `data`.
 * (Were the map ever empty, any event, `data` unknown.)
 */
export type WebhookEvent = [keyof TriggerTypes] extends [never]
  ? TriggerEvent<string, unknown>
  : { [K in keyof TriggerTypes & string]: TriggerEvent<K, TriggerTypes[K]> }[keyof TriggerTypes & string];

/** Request headers as Node (`IncomingHttpHeaders`), fetch (`Headers`) or a plain object give them. */
export type HeadersLike = Headers | Readonly<Record<string, string | readonly string[] | undefined>>;

export interface VerifyOptions {
  /** How far the delivery's timestamp may be from now, in seconds (default 300). */
  readonly toleranceSeconds?: number;
  /** The current time (tests). */
  readonly now?: Date;
}

const encoder = new TextEncoder();

/**
 * Verifies a trigger delivery (Standard Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature` carrying one
 * or more space-separated `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`) and returns the typed event. Pass the
 * body exactly as received (the raw string or bytes, not re-serialised JSON). Rejects with
 * `WebhookVerificationError` on a missing header, a timestamp outside the tolerance (replays), or no matching
 * signature. `secret` is the subscription's signing secret, `whsec_<base64>`.
 */
export async function verifyWebhook(secret: string, headers: HeadersLike, body: string | Uint8Array, options: VerifyOptions = {}): Promise<WebhookEvent> {
  const id = header(headers, "webhook-id");
  const timestamp = header(headers, "webhook-timestamp");
  const signatures = header(headers, "webhook-signature");
  if (id === undefined || timestamp === undefined || signatures === undefined) throw new WebhookVerificationError("Missing webhook-id, webhook-timestamp or webhook-signature header.");
  if (!/^\d{1,15}$/.test(timestamp)) throw new WebhookVerificationError("Invalid webhook-timestamp.");
  const now = Math.floor((options.now ?? new Date()).getTime() / 1000);
  const tolerance = options.toleranceSeconds ?? 300;
  if (Math.abs(now - Number(timestamp)) > tolerance) throw new WebhookVerificationError("The webhook's timestamp is outside the tolerance (a replay, or a clock far off).");

  const payload = typeof body === "string" ? encoder.encode(body) : body;
  const key = await globalThis.crypto.subtle.importKey("raw", toArrayBuffer(secretBytes(secret)), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const signed = new Uint8Array(await globalThis.crypto.subtle.sign("HMAC", key, toArrayBuffer(concat(encoder.encode(`${id}.${timestamp}.`), payload))));
  const matches = signatures.split(" ").some((candidate) => {
    const [version, value] = candidate.split(",", 2);
    if (version !== "v1" || value === undefined) return false;
    const given = decodeBase64(value);
    return given !== undefined && equal(given, signed);
  });
  if (!matches) throw new WebhookVerificationError("No matching signature.");

  let event: unknown;
  try {
    event = JSON.parse(new TextDecoder().decode(payload));
  } catch {
    throw new WebhookVerificationError("The body is not JSON.");
  }
  if (typeof event !== "object" || event === null || typeof (event as { type?: unknown }).type !== "string" || !("data" in event)) {
    throw new WebhookVerificationError("The body is not a trigger event ({type, id, timestamp, workspace_id, data}).");
  }
  return event as WebhookEvent;
}

/** Handlers by trigger slug, each given its event's typed `data`. */
export type WebhookHandlers = {
  readonly [K in keyof TriggerTypes & string]?: (data: TriggerTypes[K], event: TriggerEvent<K, TriggerTypes[K]>) => unknown;
};

/**
 * A typed webhook handler: verifies each delivery and calls the handler of its trigger (`fallback` for others).
 * Resolves to the event; rejects as `verifyWebhook` does (answer 400 then, and 2xx once handled).
 */
export function createWebhookHandler(secret: string, handlers: WebhookHandlers, fallback?: (event: WebhookEvent) => unknown) {
  return async (headers: HeadersLike, body: string | Uint8Array): Promise<WebhookEvent> => {
    const event = await verifyWebhook(secret, headers, body);
    const handler = (handlers as Record<string, ((data: unknown, event: unknown) => unknown) | undefined>)[event.type];
    if (handler !== undefined) await handler(event.data, event);
    else await fallback?.(event);
    return event;
  };
}

function header(headers: HeadersLike, name: string): string | undefined {
  if (typeof (headers as Headers).get === "function") return (headers as Headers).get(name) ?? undefined;
  const record = headers as Readonly<Record<string, string | readonly string[] | undefined>>;
  const key = Object.keys(record).find((k) => k.toLowerCase() === name);
  const value = key === undefined ? undefined : record[key];
  return Array.isArray(value) ? value.join(" ") : (value as string | undefined);
}

function secretBytes(secret: string): Uint8Array {
  const bytes = decodeBase64(secret.startsWith("whsec_") ? secret.slice("whsec_".length) : secret);
  if (bytes === undefined || bytes.length === 0) throw new WebhookVerificationError("The signing secret is not whsec_<base64>.");
  return bytes;
}

function decodeBase64(value: string): Uint8Array | undefined {
  try {
    return Uint8Array.from(atob(value), (c) => c.charCodeAt(0));
  } catch {
    return undefined;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

/** Constant-time comparison (both are MACs of known length: the loop never exits early). */
function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}
