import { randomBytes } from "node:crypto";
import { Webhook } from "standardwebhooks";

/** A new subscription signing secret, `whsec_` + base64 of 32 random bytes (the Standard Webhooks format). */
export function newSigningSecret(): string {
  return `whsec_${randomBytes(32).toString("base64")}`;
}

/** The secret masked for display: `whsec_…` and its last four characters. */
export function secretHint(secret: string): string {
  return `whsec_…${secret.slice(-4)}`;
}

export interface SignedHeaders {
  readonly "webhook-id": string;
  readonly "webhook-timestamp": string;
  readonly "webhook-signature": string;
}

/**
 * Standard Webhooks headers for one message: the signature of `${id}.${timestamp}.${body}` with each secret, space
 * separated (`v1,<sig> v1,<sig>`), so a receiver holding either the old or the new secret verifies it during a
 * rotation's grace period.
 */
export function signMessage(secrets: readonly string[], id: string, at: Date, body: string): SignedHeaders {
  const signatures = secrets.map((secret) => new Webhook(secret).sign(id, at, body));
  return { "webhook-id": id, "webhook-timestamp": String(Math.floor(at.getTime() / 1000)), "webhook-signature": signatures.join(" ") };
}
