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

interface Entry {
  readonly key: Uint8Array;
  readonly expiresAt: number;
}

/**
 * Unwrapped data keys by (workspace, version): a Map in least-recently-used order, with a TTL. The cache owns the
 * buffers it holds and wipes them on eviction, so a key it hands out must be used synchronously (see `use`): after
 * an `await` the buffer may already be zeros.
 */
export class KeyCache {
  private readonly entries = new Map<string, Entry>();
  private readonly maxEntries: number;
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(options: KeyCacheOptions = {}, now: () => number = Date.now) {
    this.maxEntries = Math.max(0, Math.floor(options.maxEntries ?? 10_000));
    this.ttlMs = Math.max(0, options.ttlMs ?? 60_000);
    this.now = now;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Runs `fn` with the cached key, synchronously, and returns its result; `{ hit: false }` (fn not called) on a miss. */
  use<T>(workspaceId: string, version: number, fn: (key: Uint8Array) => T): { hit: true; value: T } | { hit: false } {
    const id = cacheKey(workspaceId, version);
    const entry = this.entries.get(id);
    if (!entry) return { hit: false };
    if (entry.expiresAt <= this.now()) {
      this.remove(id);
      return { hit: false };
    }
    // Re-insert to mark it most recently used.
    this.entries.delete(id);
    this.entries.set(id, entry);
    return { hit: true, value: fn(entry.key) };
  }

  /**
   * Hands a key to the cache, which then owns it. If the cache is disabled, full of nothing evictable, or already
   * holds that key, the given buffer is wiped instead.
   */
  adopt(workspaceId: string, version: number, key: Uint8Array): void {
    const id = cacheKey(workspaceId, version);
    if (this.ttlMs === 0 || this.maxEntries === 0 || this.entries.has(id)) {
      wipe(key);
      return;
    }
    this.entries.set(id, { key, expiresAt: this.now() + this.ttlMs });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.remove(oldest);
    }
  }

  /** Drops (and wipes) one version of a workspace's key. */
  forget(workspaceId: string, version: number): void {
    this.remove(cacheKey(workspaceId, version));
  }

  /** Drops (and wipes) every version of a workspace's key. */
  forgetWorkspace(workspaceId: string): void {
    const prefix = `${workspaceId}:`;
    for (const id of [...this.entries.keys()]) if (id.startsWith(prefix)) this.remove(id);
  }

  /** Drops and wipes everything. */
  clear(): void {
    for (const id of [...this.entries.keys()]) this.remove(id);
  }

  private remove(id: string): void {
    const entry = this.entries.get(id);
    if (!entry) return;
    this.entries.delete(id);
    wipe(entry.key);
  }
}

function cacheKey(workspaceId: string, version: number): string {
  return `${workspaceId}:${version}`;
}
