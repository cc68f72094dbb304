/**
 * Why a vault operation failed. Codes are stable: callers branch on them (the API maps them to its own catalogue,
 * the worker turns `KEY_VERSION_RETIRED` into a re-read). Messages name key ids and versions, never key material,
 * plaintext or ciphertext.
 */
export const VAULT_ERROR_CODES = [
  /** The keyring is empty, has a key that is not 32 bytes, or an id twice. */
  "INVALID_KEYRING",
  /** A wrapped data key names a master key the keyring does not hold (checked at boot and at use). */
  "UNKNOWN_MASTER_KEY",
  /** A wrapped data key does not open with its master key: wrong key material under that id, or a tampered row. */
  "KEY_UNWRAP_FAILED",
  /** `seal` or `rotateWorkspaceKey` on a workspace with no data key: call `ensureWorkspaceKey` first. */
  "KEY_NOT_FOUND",
  /** `open` on a workspace whose data keys were destroyed (crypto-shredding): the secret is gone for good. */
  "KEY_DESTROYED",
  /** The envelope names a data key version a rotation has retired: re-read the ciphertext and open it again. */
  "KEY_VERSION_RETIRED",
  /** The envelope is truncated, of an unknown format version, or not an envelope at all. */
  "MALFORMED_ENVELOPE",
  /** Authentication failed: tampered ciphertext, or an envelope of another workspace, connection or purpose. */
  "DECRYPT_FAILED",
  /** A workspace id, connection id or purpose that cannot be bound (empty, too long, not a UUID where one is due). */
  "INVALID_CONTEXT",
  /** A plaintext larger than the vault seals (`MAX_PLAINTEXT_BYTES`). */
  "PLAINTEXT_TOO_LARGE",
  /** `ensureWorkspaceKey` for a workspace that does not exist or is deleted. */
  "WORKSPACE_NOT_FOUND",
  /** A data-key rotation kept losing races with concurrent writes; running it again resumes it. */
  "ROTATION_CONFLICT",
  /** The vault was closed (its key copies wiped). */
  "VAULT_CLOSED",
] as const;

export type VaultErrorCode = (typeof VAULT_ERROR_CODES)[number];

/** The one error type the vault throws on purpose. Anything else (a database error) propagates unchanged. */
export class VaultError extends Error {
  readonly code: VaultErrorCode;

  constructor(code: VaultErrorCode, message: string) {
    super(message);
    this.name = "VaultError";
    this.code = code;
  }
}

export function isVaultError(error: unknown, code?: VaultErrorCode): error is VaultError {
  return error instanceof VaultError && (code === undefined || error.code === code);
}
