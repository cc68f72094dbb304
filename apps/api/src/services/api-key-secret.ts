import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/**
 * Workspace API keys look like `nk_<43 base64url characters>` (32 random bytes). The first 12 characters after
 * `nk_` are the key's `prefix`: not secret, unique, the row's lookup handle and what people see in listings. Only
 * the SHA-256 of the whole key is stored; a key of 256 random bits needs no slow hash.
 */
const KEY_PATTERN = /^nk_[A-Za-z0-9_-]{43}$/;
const PREFIX_LENGTH = 12;

export interface NewKey {
  readonly key: string;
  readonly prefix: string;
  readonly hash: string;
}

export function generateApiKey(): NewKey {
  const key = `nk_${randomBytes(32).toString("base64url")}`;
  return { key, prefix: prefixOf(key), hash: hashKey(key) };
}

export function isWellFormedKey(key: string): boolean {
  return KEY_PATTERN.test(key);
}

export function prefixOf(key: string): string {
  return key.slice(3, 3 + PREFIX_LENGTH);
}

export function hashKey(key: string): string {
  return createHash("sha256").update(key).digest("hex");
}

/** Constant-time comparison of two hex digests of equal length. */
export function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, "hex");
  const y = Buffer.from(b, "hex");
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Constant-time comparison of two secrets of any length (compares their digests). */
export function sameSecret(given: string, expected: string): boolean {
  return timingSafeEqual(createHash("sha256").update(given).digest(), createHash("sha256").update(expected).digest());
}
