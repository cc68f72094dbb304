// The sealed-secret format. An envelope is self-describing, so a reader knows which data key version opens it
// without any other column:
//
//   offset  size  field
//   0       1     format version (1)
//   1       4     data key version, uint32 big-endian (>= 1); the workspace_key row (workspace_id, version)
//                 records which master key wraps that data key
//   5       24    nonce (XChaCha20-Poly1305, random)
//   29      n+16  ciphertext of the n-byte plaintext, then the Poly1305 tag
//
// Associated data (authenticated, not stored): the domain tag "nagent/vault/secret", the format and key version
// bytes of the header, the workspace id, the connection id and the purpose, each length-prefixed (see ByteWriter).
// The nonce is authenticated by the AEAD itself. So an envelope copied to another row, workspace or purpose, or one
// whose header was edited to name another key version, fails to open.
import { ByteWriter } from "./bytes";
import type { SecretContext } from "./context";
import { VaultError } from "./errors";

export const ENVELOPE_FORMAT = 1;
export const NONCE_BYTES = 24;
export const TAG_BYTES = 16;
export const HEADER_BYTES = 1 + 4 + NONCE_BYTES;
/** Largest plaintext `seal` accepts; credentials are small, and a bound keeps a bad caller from sealing megabytes. */
export const MAX_PLAINTEXT_BYTES = 64 * 1024;
const MAX_KEY_VERSION = 0xffff_ffff;
const SECRET_DOMAIN = "nagent/vault/secret";

export interface Envelope {
  readonly format: number;
  readonly keyVersion: number;
  readonly nonce: Uint8Array;
  /** Ciphertext followed by the 16-byte tag. */
  readonly sealed: Uint8Array;
}

/** Lays out an envelope. `sealed` is the AEAD output (ciphertext + tag). */
export function encodeEnvelope(keyVersion: number, nonce: Uint8Array, sealed: Uint8Array): Buffer<ArrayBuffer> {
  if (!Number.isInteger(keyVersion) || keyVersion < 1 || keyVersion > MAX_KEY_VERSION) throw new RangeError("key version out of range");
  if (nonce.length !== NONCE_BYTES) throw new RangeError(`nonce must be ${NONCE_BYTES} bytes`);
  if (sealed.length < TAG_BYTES) throw new RangeError("sealed part shorter than the tag");
  const out = Buffer.allocUnsafe(HEADER_BYTES + sealed.length);
  out.writeUInt8(ENVELOPE_FORMAT, 0);
  out.writeUInt32BE(keyVersion, 1);
  out.set(nonce, 5);
  out.set(sealed, HEADER_BYTES);
  return out;
}

/** Splits an envelope into its fields, or throws `MALFORMED_ENVELOPE`. Authenticity is checked only by opening. */
export function decodeEnvelope(bytes: Uint8Array): Envelope {
  if (!(bytes instanceof Uint8Array) || bytes.length < HEADER_BYTES + TAG_BYTES) {
    throw new VaultError("MALFORMED_ENVELOPE", "The sealed secret is truncated or not a vault envelope.");
  }
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const format = view.readUInt8(0);
  if (format !== ENVELOPE_FORMAT) throw new VaultError("MALFORMED_ENVELOPE", `The sealed secret has an unknown format version ${format}.`);
  const keyVersion = view.readUInt32BE(1);
  if (keyVersion < 1) throw new VaultError("MALFORMED_ENVELOPE", "The sealed secret names no data key version.");
  return { format, keyVersion, nonce: view.subarray(5, HEADER_BYTES), sealed: view.subarray(HEADER_BYTES) };
}

/**
 * The data key version an envelope names, without opening it (e.g. to check which rows a rotation still has to
 * re-encrypt). Throws `MALFORMED_ENVELOPE`.
 */
export function envelopeKeyVersion(bytes: Uint8Array): number {
  return decodeEnvelope(bytes).keyVersion;
}

/** The associated data binding an envelope to its workspace, connection and purpose (ids already canonical). */
export function secretAssociatedData(format: number, keyVersion: number, workspaceId: string, context: SecretContext): Buffer {
  return new ByteWriter()
    .str(SECRET_DOMAIN)
    .u8(format)
    .u32(keyVersion)
    .str(workspaceId)
    .str(context.connectionId)
    .str(context.purpose)
    .done();
}
