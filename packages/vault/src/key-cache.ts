import { LRUCache } from "lru-cache";
import { wipe } from "./aead";

/** Bounds of the in-memory cache of unwrapped data keys. */
export interface KeyCacheOptions {
  /** Most data keys held at once; the least recently used is evicted (and wiped) beyond it. Default 10,000. */
  readonly maxEntries?: number;
  /**
   * How long an unwrapped key stays usable without reading its row again, in ms. Default 60,000; 0 disables the
   * cache. This is also how long another process may still open secrets with a key this process destroyed or
   * retired (see README, "The cache trade-off").
   */
  readonly ttlMs?: number;
}

/**
 * Unwrapped data keys by (workspace, version), least recently used evicted, each usable for `ttlMs` after it was
 * adopted (`lru-cache`). The cache owns the buffers it holds and wipes one whenever it leaves: evicted, expired
 * (`ttlAutopurge` wipes it at expiry, not when it is next looked up), replaced, forgotten or cleared — `dispose`
 * runs for every one of those. A key it hands out must be used synchronously (see `use`): after an `await` the
 * buffer may already be zeros. `dispose` (not `disposeAfter`) is right here: nothing re-enters the cache from it,
 * and no removal can happen during the synchronous callback that borrows a key.
 */
export class KeyCache {
  /** null when disabled (ttlMs or maxEntries 0): every adopted key is wiped at once. */
  private readonly entries: LRUCache<string, Uint8Array> | null;

  /** `now` is the clock of the TTL, in ms (monotonic by default, so a wall-clock jump cannot extend a key's life). */
  constructor(options: KeyCacheOptions = {}, now: () => number = () => performance.now()) {
    const max = Math.max(0, Math.floor(options.maxEntries ?? 10_000));
    const ttl = Math.max(0, Math.ceil(options.ttlMs ?? 60_000));
    this.entries =
      max === 0 || ttl === 0
        ? null
        : new LRUCache<string, Uint8Array>({
            max,
            ttl,
            ttlAutopurge: true,
            // Read the clock on every lookup rather than lru-cache's default of once per ms, so expiry is exact.
            ttlResolution: 0,
            perf: { now },
            dispose: (key) => wipe(key),
          });
  }

  get size(): number {
    return this.entries?.size ?? 0;
  }

  /** Runs `fn` with the cached key, synchronously, and returns its result; `{ hit: false }` (fn not called) on a miss. */
  use<T>(workspaceId: string, version: number, fn: (key: Uint8Array) => T): { hit: true; value: T } | { hit: false } {
    // A stale entry is deleted (and wiped) by this get and reported as a miss.
    const key = this.entries?.get(cacheKey(workspaceId, version));
    return key === undefined ? { hit: false } : { hit: true, value: fn(key) };
  }

  /**
   * Hands a key to the cache, which then owns it. If the cache is disabled or already holds that key, the given
   * buffer is wiped instead.
   */
  adopt(workspaceId: string, version: number, key: Uint8Array): void {
    const id = cacheKey(workspaceId, version);
    if (this.entries === null || this.entries.has(id)) {
      wipe(key);
      return;
    }
    // Replacing a stale entry of the same id disposes (wipes) the old buffer.
    this.entries.set(id, key);
  }

  /** Drops (and wipes) one version of a workspace's key. */
  forget(workspaceId: string, version: number): void {
    this.entries?.delete(cacheKey(workspaceId, version));
  }

  /** Drops (and wipes) every version of a workspace's key. */
  forgetWorkspace(workspaceId: string): void {
    if (this.entries === null) return;
    // keys() skips stale entries: purge (wipe) those first so none of the workspace's keys is left behind.
    this.entries.purgeStale();
    const prefix = `${workspaceId}:`;
    for (const id of [...this.entries.keys()]) if (id.startsWith(prefix)) this.entries.delete(id);
  }

  /** Drops and wipes everything. */
  clear(): void {
    this.entries?.clear();
  }
}

function cacheKey(workspaceId: string, version: number): string {
  return `${workspaceId}:${version}`;
}
