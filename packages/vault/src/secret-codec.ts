// Sealing and opening with a data key already in hand: pure functions, no I/O (the vault and the benchmark share
// them, and rotation computes with them outside its transaction).
import { decrypt, encrypt } from "./aead";
import type { SecretContext } from "./context";
import { decodeEnvelope, encodeEnvelope, ENVELOPE_FORMAT, MAX_PLAINTEXT_BYTES, secretAssociatedData } from "./envelope";
import { VaultError } from "./errors";

/** Seals `plaintext` under data key `version` of the workspace. Ids must already be canonical. */
export function sealWithKey(key: Uint8Array, version: number, workspaceId: string, context: SecretContext, plaintext: Uint8Array): Buffer<ArrayBuffer> {
  if (plaintext.length > MAX_PLAINTEXT_BYTES) {
    throw new VaultError("PLAINTEXT_TOO_LARGE", `A sealed secret may hold at most ${MAX_PLAINTEXT_BYTES} bytes.`);
  }
  const ad = secretAssociatedData(ENVELOPE_FORMAT, version, workspaceId, context);
  const { nonce, sealed } = encrypt(plaintext, ad, key);
  return encodeEnvelope(version, nonce, sealed);
}

/** Opens an envelope with the data key its header names (the caller looked it up by `decodeEnvelope(...).keyVersion`). */
export function openWithKey(key: Uint8Array, envelope: Uint8Array, workspaceId: string, context: SecretContext): Buffer {
  const { format, keyVersion, nonce, sealed } = decodeEnvelope(envelope);
  const plain = decrypt(sealed, secretAssociatedData(format, keyVersion, workspaceId, context), nonce, key);
  if (plain === null) {
    throw new VaultError(
      "DECRYPT_FAILED",
      "The sealed secret does not open: it was altered, or it belongs to another workspace, connection or purpose.",
    );
  }
  return Buffer.from(plain.buffer, plain.byteOffset, plain.byteLength);
}

/** Text or bytes to seal, as bytes. */
export function toBytes(plaintext: string | Uint8Array): Uint8Array {
  if (typeof plaintext === "string") return Buffer.from(plaintext, "utf8");
  if (plaintext instanceof Uint8Array) return plaintext;
  throw new TypeError("plaintext must be a string or bytes");
}
