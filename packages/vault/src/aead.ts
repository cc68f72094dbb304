import { randomBytes, randomFillSync } from "node:crypto";
import sodium from "libsodium-wrappers";
import { NONCE_BYTES } from "./envelope";

/** Key length of XChaCha20-Poly1305, the vault's only cipher (data keys and master keys alike). */
export const KEY_BYTES = 32;

/** Resolves once libsodium's wasm is loaded; `createVault` awaits it, so the functions below may assume it. */
export function sodiumReady(): Promise<void> {
  return sodium.ready;
}

/**
 * XChaCha20-Poly1305 encryption under a fresh random nonce. The nonce comes from node:crypto, a CSPRNG too:
 * libsodium.js's randombytes_buf costs ~150 µs a call here (ENVIRONMENT.md), fifteen times the encryption itself.
 * 24-byte random nonces make collisions negligible however many secrets one key seals.
 */
export function encrypt(plaintext: Uint8Array, associatedData: Uint8Array, key: Uint8Array): { nonce: Uint8Array; sealed: Uint8Array } {
  const nonce = randomBytes(NONCE_BYTES);
  const sealed = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, associatedData, null, nonce, key);
  return { nonce, sealed };
}

/** The plaintext, or null when authentication fails (wrong key, associated data, nonce or tampered bytes). */
export function decrypt(sealed: Uint8Array, associatedData: Uint8Array, nonce: Uint8Array, key: Uint8Array): Uint8Array | null {
  try {
    return sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(null, sealed, associatedData, nonce, key);
  } catch {
    // libsodium throws one generic error for every authentication failure; nothing in it is worth keeping.
    return null;
  }
}

/** A fresh random key. */
export function newKey(): Uint8Array {
  // Filled in place so no other copy of the key exists for `wipe` to miss.
  return randomFillSync(new Uint8Array(KEY_BYTES));
}

/** Overwrites key material we own. JS strings and copies the runtime made (the wasm heap, GC'd buffers) are beyond reach. */
export function wipe(bytes: Uint8Array | null | undefined): void {
  if (bytes) sodium.memzero(bytes);
}
