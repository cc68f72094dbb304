// How a workspace data key is stored: wrapped (encrypted) by a master key, in workspace_key.wrapped_key.
//
//   offset  size  field
//   0       1     format version (1)
//   1       24    nonce
//   25      48    the 32-byte data key encrypted with XChaCha20-Poly1305, then the tag
//
// Associated data: "nagent/vault/data-key", the format byte, the workspace id, the data key version and the master
// key id. A wrapped key copied to another workspace or version, or a row whose master_key_id was edited, fails to
// unwrap. The master key id lives in its own column (indexed), which is what rewrapping and the boot check query.
import { ByteWriter } from "./bytes";
import { decrypt, encrypt, KEY_BYTES } from "./aead";
import { NONCE_BYTES, TAG_BYTES } from "./envelope";
import { VaultError } from "./errors";
import type { MasterKeyEntry } from "./keyring";

const WRAP_FORMAT = 1;
const WRAPPED_BYTES = 1 + NONCE_BYTES + KEY_BYTES + TAG_BYTES;
const DATA_KEY_DOMAIN = "nagent/vault/data-key";

function wrapAssociatedData(workspaceId: string, version: number, masterKeyId: string): Buffer {
  return new ByteWriter().str(DATA_KEY_DOMAIN).u8(WRAP_FORMAT).str(workspaceId).u32(version).str(masterKeyId).done();
}

/** Encrypts a data key under a master key, bound to its workspace and version. */
export function wrapDataKey(dataKey: Uint8Array, workspaceId: string, version: number, master: MasterKeyEntry): Buffer<ArrayBuffer> {
  const { nonce, sealed } = encrypt(dataKey, wrapAssociatedData(workspaceId, version, master.id), master.key);
  const out = Buffer.allocUnsafe(WRAPPED_BYTES);
  out.writeUInt8(WRAP_FORMAT, 0);
  out.set(nonce, 1);
  out.set(sealed, 1 + NONCE_BYTES);
  return out;
}

/**
 * Decrypts a wrapped data key; the caller owns (and should wipe) the result. Throws `KEY_UNWRAP_FAILED` when the
 * bytes do not authenticate: the master key under that id is not the one that wrapped it, or the row was altered.
 */
export function unwrapDataKey(wrapped: Uint8Array, workspaceId: string, version: number, master: MasterKeyEntry): Uint8Array {
  if (wrapped.length !== WRAPPED_BYTES || wrapped[0] !== WRAP_FORMAT) {
    throw new VaultError("KEY_UNWRAP_FAILED", `Data key version ${version} is stored in an unknown format.`);
  }
  const nonce = wrapped.subarray(1, 1 + NONCE_BYTES);
  const sealed = wrapped.subarray(1 + NONCE_BYTES);
  const key = decrypt(sealed, wrapAssociatedData(workspaceId, version, master.id), nonce, master.key);
  if (key === null || key.length !== KEY_BYTES) {
    throw new VaultError(
      "KEY_UNWRAP_FAILED",
      `Data key version ${version} does not unwrap with master key "${master.id}": the keyring's material for that id is not the one that wrapped it, or the row was altered.`,
    );
  }
  return key;
}
