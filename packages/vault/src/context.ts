import { VaultError } from "./errors";

/**
 * What a secret is bound to, besides its workspace. Both fields enter the associated data of the envelope, so an
 * envelope opens only with the exact connection and purpose it was sealed for.
 */
export interface SecretContext {
  /** The row the secret belongs to, e.g. the connection's id. A UUID is compared case-insensitively. */
  readonly connectionId: string;
  /** What the secret is for, e.g. `"connection.credentials"`: lowercase letters, digits and `._:-`, up to 64. */
  readonly purpose: string;
}

/** The purpose of a connection's stored credentials (what `rotateWorkspaceKey` re-encrypts). */
export const CONNECTION_CREDENTIALS = "connection.credentials";

/**
 * The purpose of a trigger subscription's signing secret (`trigger_subscription.secret_ciphertext` and
 * `previous_secret_ciphertext`, bound to the subscription's id). Re-exported by `@nagent/triggers`.
 */
export const TRIGGER_SIGNING_SECRET = "trigger.signing_secret";

/**
 * The purpose of a run's sealed sensitive input values (`run.sealed_input`, bound to the run's id). Re-exported by
 * `@nagent/runs`.
 */
export const RUN_SENSITIVE_INPUT = "run.sensitive_input";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ID = /^[\x21-\x7e]{1,128}$/;
const PURPOSE = /^[a-z0-9][a-z0-9._:-]{0,63}$/;

/** The workspace id as bound in associated data: a UUID, lowercased (PostgreSQL returns uuids lowercase). */
export function canonicalWorkspaceId(workspaceId: string): string {
  if (typeof workspaceId !== "string" || !UUID.test(workspaceId)) throw new VaultError("INVALID_CONTEXT", "The workspace id must be a UUID.");
  return workspaceId.toLowerCase();
}

/** The context as bound in associated data; throws `INVALID_CONTEXT` for what cannot be bound unambiguously. */
export function canonicalContext(context: SecretContext): SecretContext {
  const { connectionId, purpose } = context ?? ({} as SecretContext);
  if (typeof connectionId !== "string" || !ID.test(connectionId)) {
    throw new VaultError("INVALID_CONTEXT", "The connection id must be 1 to 128 printable ASCII characters without spaces.");
  }
  if (typeof purpose !== "string" || !PURPOSE.test(purpose)) {
    throw new VaultError("INVALID_CONTEXT", "The purpose must be 1 to 64 characters: lowercase letters, digits and . _ : -");
  }
  return { connectionId: UUID.test(connectionId) ? connectionId.toLowerCase() : connectionId, purpose };
}
