// The baseline the vault is measured against: the same envelope work (same header, same associated data, a fresh
// random nonce per seal) with node:crypto's AES-256-GCM, which uses the CPU's AES-NI through OpenSSL.
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

const NONCE = 12;
const TAG = 16;
const HEADER = 1 + 4 + NONCE;

export function aesSeal(key: Uint8Array, version: number, ad: Uint8Array, plaintext: Uint8Array): Buffer {
  const nonce = randomBytes(NONCE);
  const cipher = createCipheriv("aes-256-gcm", key, nonce);
  cipher.setAAD(ad);
  const body = cipher.update(plaintext);
  cipher.final();
  const out = Buffer.allocUnsafe(HEADER + body.length + TAG);
  out.writeUInt8(1, 0);
  out.writeUInt32BE(version, 1);
  out.set(nonce, 5);
  out.set(body, HEADER);
  out.set(cipher.getAuthTag(), HEADER + body.length);
  return out;
}

export function aesOpen(key: Uint8Array, envelope: Buffer, ad: Uint8Array): Buffer {
  const nonce = envelope.subarray(5, HEADER);
  const tag = envelope.subarray(envelope.length - TAG);
  const decipher = createDecipheriv("aes-256-gcm", key, nonce);
  decipher.setAAD(ad);
  decipher.setAuthTag(tag);
  const plain = decipher.update(envelope.subarray(HEADER, envelope.length - TAG));
  decipher.final();
  return plain;
}
