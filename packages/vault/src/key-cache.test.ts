import { describe, expect, it } from "vitest";
import { KeyCache } from "./key-cache";

const key = (fill: number): Uint8Array => new Uint8Array(32).fill(fill);

describe("KeyCache", () => {
  it("lends a cached key to a synchronous callback", () => {
    const cache = new KeyCache();
    expect(cache.use("w", 1, () => 1).hit).toBe(false);
    cache.adopt("w", 1, key(7));
    expect(cache.use("w", 1, (k) => k[0])).toEqual({ hit: true, value: 7 });
    expect(cache.use("w", 2, () => 1).hit).toBe(false);
  });

  it("evicts the least recently used beyond its bound, and wipes what it evicts", () => {
    const cache = new KeyCache({ maxEntries: 2 });
    const a = key(1);
    const b = key(2);
    cache.adopt("w", 1, a);
    cache.adopt("w", 2, b);
    cache.use("w", 1, () => undefined); // 1 is now the most recent
    cache.adopt("w", 3, key(3));
    expect(cache.size).toBe(2);
    expect(cache.use("w", 2, () => 0).hit).toBe(false);
    expect(b.every((x) => x === 0)).toBe(true);
    expect(a[0]).toBe(1);
  });

  it("expires entries after the TTL and wipes them", () => {
    let now = 1_000;
    const cache = new KeyCache({ ttlMs: 100 }, () => now);
    const a = key(9);
    cache.adopt("w", 1, a);
    // Usable while its age is at most the TTL (lru-cache's rule), gone one tick later.
    now = 1_100;
    expect(cache.use("w", 1, () => 0).hit).toBe(true);
    now = 1_101;
    expect(cache.use("w", 1, () => 0).hit).toBe(false);
    expect(a.every((x) => x === 0)).toBe(true);

    // A key adopted again after expiry replaces the stale one (already wiped) and is the one lent.
    const b = key(4);
    cache.adopt("w", 1, b);
    expect(cache.use("w", 1, (k) => k[0])).toEqual({ hit: true, value: 4 });

    // Forgetting the workspace wipes its keys, stale ones included.
    now = 2_000;
    cache.forgetWorkspace("w");
    expect(b.every((x) => x === 0)).toBe(true);
    expect(cache.size).toBe(0);
  });

  it("wipes an expired key at expiry, without waiting for a lookup", async () => {
    const cache = new KeyCache({ ttlMs: 20 });
    const a = key(6);
    cache.adopt("w", 1, a);
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(a.every((x) => x === 0)).toBe(true);
    expect(cache.size).toBe(0);
  });

  it("wipes instead of caching when disabled or when the key is already held", () => {
    const off = new KeyCache({ ttlMs: 0 });
    const a = key(5);
    off.adopt("w", 1, a);
    expect(off.size).toBe(0);
    expect(a[0]).toBe(0);

    const cache = new KeyCache();
    const first = key(1);
    const second = key(1);
    cache.adopt("w", 1, first);
    cache.adopt("w", 1, second);
    expect(second[0]).toBe(0);
    expect(cache.use("w", 1, (k) => k[0])).toEqual({ hit: true, value: 1 });
  });

  it("forgets one version, one workspace, or everything", () => {
    const cache = new KeyCache();
    const keys = [key(1), key(2), key(3)];
    cache.adopt("w1", 1, keys[0]!);
    cache.adopt("w1", 2, keys[1]!);
    cache.adopt("w10", 1, keys[2]!);
    cache.forget("w1", 2);
    expect(keys[1]![0]).toBe(0);
    cache.forgetWorkspace("w1");
    expect(keys[0]![0]).toBe(0);
    expect(cache.use("w10", 1, (k) => k[0])).toEqual({ hit: true, value: 3 });
    cache.clear();
    expect(cache.size).toBe(0);
    expect(keys[2]![0]).toBe(0);
  });
});
