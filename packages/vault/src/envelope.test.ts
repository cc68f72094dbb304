import { randomBytes } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { newKey, sodiumReady } from "./aead";
import { decodeEnvelope, encodeEnvelope, ENVELOPE_FORMAT, envelopeKeyVersion, HEADER_BYTES, MAX_PLAINTEXT_BYTES, secretAssociatedData, TAG_BYTES } from "./envelope";
import { VaultError } from "./errors";
import { openWithKey, sealWithKey } from "./secret-codec";

const WS = "0190a8f2-7c1d-7e3a-9b2c-1d2e3f405162";
const CTX = { connectionId: "0190a8f2-7c1d-7e3a-9b2c-aaaaaaaaaaaa", purpose: "connection.credentials" };

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return error instanceof VaultError ? error.code : `not a VaultError: ${String(error)}`;
  }
  return undefined;
}

describe("envelope codec", () => {
  it("lays out format, key version, nonce and sealed bytes, and reads them back", () => {
    const nonce = randomBytes(24);
    const sealed = randomBytes(40 + TAG_BYTES);
    const bytes = encodeEnvelope(7, nonce, sealed);
    expect(bytes.length).toBe(HEADER_BYTES + sealed.length);
    expect(bytes[0]).toBe(ENVELOPE_FORMAT);
    expect(bytes.readUInt32BE(1)).toBe(7);
    const decoded = decodeEnvelope(bytes);
    expect(decoded.format).toBe(1);
    expect(decoded.keyVersion).toBe(7);
    expect(Buffer.from(decoded.nonce).equals(nonce)).toBe(true);
    expect(Buffer.from(decoded.sealed).equals(sealed)).toBe(true);
    expect(envelopeKeyVersion(bytes)).toBe(7);
  });

  it("refuses truncated input, an unknown format and a zero key version", () => {
    const good = encodeEnvelope(1, randomBytes(24), randomBytes(TAG_BYTES + 3));
    expect(codeOf(() => decodeEnvelope(good.subarray(0, HEADER_BYTES + TAG_BYTES - 1)))).toBe("MALFORMED_ENVELOPE");
    expect(codeOf(() => decodeEnvelope(new Uint8Array(0)))).toBe("MALFORMED_ENVELOPE");
    const otherFormat = Buffer.from(good);
    otherFormat[0] = 2;
    expect(codeOf(() => decodeEnvelope(otherFormat))).toBe("MALFORMED_ENVELOPE");
    const zeroVersion = Buffer.from(good);
    zeroVersion.writeUInt32BE(0, 1);
    expect(codeOf(() => decodeEnvelope(zeroVersion))).toBe("MALFORMED_ENVELOPE");
  });

  it("refuses to encode out-of-range fields", () => {
    expect(() => encodeEnvelope(0, randomBytes(24), randomBytes(16))).toThrow(RangeError);
    expect(() => encodeEnvelope(1, randomBytes(12), randomBytes(16))).toThrow(RangeError);
    expect(() => encodeEnvelope(1, randomBytes(24), randomBytes(15))).toThrow(RangeError);
  });

  it("encodes associated data unambiguously (moving a character between fields changes it)", () => {
    const a = secretAssociatedData(1, 1, WS, { connectionId: "ab", purpose: "c" });
    const b = secretAssociatedData(1, 1, WS, { connectionId: "a", purpose: "bc" });
    expect(a.equals(b)).toBe(false);
    expect(secretAssociatedData(1, 1, WS, CTX).equals(secretAssociatedData(1, 2, WS, CTX))).toBe(false);
  });
});

describe("sealing with a key in hand", () => {
  beforeAll(() => sodiumReady());

  it("round-trips, and every change of key, bytes, header or binding fails with DECRYPT_FAILED", () => {
    const key = newKey();
    const secret = "live_0123456789abcdef0123456789abcdef";
    const envelope = sealWithKey(key, 3, WS, CTX, Buffer.from(secret));
    expect(envelope.length).toBe(HEADER_BYTES + secret.length + TAG_BYTES);
    expect(openWithKey(key, envelope, WS, CTX).toString()).toBe(secret);
    // Two seals of the same secret differ (fresh nonce).
    expect(sealWithKey(key, 3, WS, CTX, Buffer.from("x")).equals(sealWithKey(key, 3, WS, CTX, Buffer.from("x")))).toBe(false);

    expect(codeOf(() => openWithKey(newKey(), envelope, WS, CTX))).toBe("DECRYPT_FAILED");
    for (const offset of [5, HEADER_BYTES, envelope.length - 1]) {
      const tampered = Buffer.from(envelope);
      tampered[offset]! ^= 0x01;
      expect(codeOf(() => openWithKey(key, tampered, WS, CTX))).toBe("DECRYPT_FAILED");
    }
    const otherVersion = Buffer.from(envelope);
    otherVersion.writeUInt32BE(4, 1);
    expect(codeOf(() => openWithKey(key, otherVersion, WS, CTX))).toBe("DECRYPT_FAILED");
    expect(codeOf(() => openWithKey(key, envelope, "0190a8f2-7c1d-7e3a-9b2c-1d2e3f405163", CTX))).toBe("DECRYPT_FAILED");
    expect(codeOf(() => openWithKey(key, envelope, WS, { ...CTX, connectionId: "0190a8f2-7c1d-7e3a-9b2c-aaaaaaaaaaab" }))).toBe("DECRYPT_FAILED");
    expect(codeOf(() => openWithKey(key, envelope, WS, { ...CTX, purpose: "webhook.secret" }))).toBe("DECRYPT_FAILED");
  });

  it("bounds the plaintext", () => {
    expect(codeOf(() => sealWithKey(newKey(), 1, WS, CTX, new Uint8Array(MAX_PLAINTEXT_BYTES + 1)))).toBe("PLAINTEXT_TOO_LARGE");
  });
});
