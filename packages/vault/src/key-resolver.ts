import type { PrismaClient } from "@nagent/db";
import { KeyCache } from "./key-cache";
import type { Keyring } from "./keyring";
import { VaultError } from "./errors";
import { unwrapDataKey } from "./wrapped-key";

interface KeyRow {
  readonly version: number;
  readonly wrappedKey: Uint8Array;
  readonly masterKeyId: string;
}

/**
 * Finds workspace data keys: from the cache, else from workspace_key, unwrapped with the master key the row names.
 * Keys are lent to a synchronous callback and never escape it, so the cache may wipe them at any later time.
 */
export class KeyResolver {
  /** Row reads in flight, so a burst of cold opens of one key reads its row once. */
  private readonly inflight = new Map<string, Promise<KeyRow | null>>();

  constructor(
    private readonly prisma: PrismaClient,
    private readonly keyring: Keyring,
    readonly cache: KeyCache,
  ) {}

  /**
   * Runs `fn` with data key `version` of the workspace. Throws `KEY_DESTROYED` when the workspace has no key,
   * `KEY_VERSION_RETIRED` when a rotation removed that version, `UNKNOWN_MASTER_KEY` or `KEY_UNWRAP_FAILED`.
   */
  async withKey<T>(workspaceId: string, version: number, fn: (key: Uint8Array) => T): Promise<T> {
    const cached = this.cache.use(workspaceId, version, fn);
    if (cached.hit) return cached.value;
    const row = await this.readRow(workspaceId, version);
    if (row === null) throw await this.missingKeyError(workspaceId, version);
    return this.useRow(workspaceId, row, fn);
  }

  /** Runs `fn` with the workspace's active (highest) data key version. Throws `KEY_NOT_FOUND` if it has none. */
  async withActiveKey<T>(workspaceId: string, fn: (key: Uint8Array, version: number) => T): Promise<T> {
    // Read every time, not cached: seals are rare (a connection is created or changed) and must use the version a
    // concurrent rotation just created, or the rotation would have to chase a ciphertext it cannot see yet.
    const row = await this.prisma.workspaceKey.findFirst({
      where: { workspaceId },
      orderBy: { version: "desc" },
      select: { version: true, wrappedKey: true, masterKeyId: true },
    });
    if (row === null) {
      throw new VaultError("KEY_NOT_FOUND", "The workspace has no data key: call ensureWorkspaceKey when it is created (or its keys were destroyed).");
    }
    const cached = this.cache.use(workspaceId, row.version, (key) => fn(key, row.version));
    if (cached.hit) return cached.value;
    return this.useRow(workspaceId, row, (key) => fn(key, row.version));
  }

  private useRow<T>(workspaceId: string, row: KeyRow, fn: (key: Uint8Array) => T): T {
    const key = unwrapDataKey(row.wrappedKey, workspaceId, row.version, this.keyring.get(row.masterKeyId));
    try {
      return fn(key);
    } finally {
      this.cache.adopt(workspaceId, row.version, key);
    }
  }

  private readRow(workspaceId: string, version: number): Promise<KeyRow | null> {
    const id = `${workspaceId}:${version}`;
    let pending = this.inflight.get(id);
    if (!pending) {
      pending = this.prisma.workspaceKey
        .findUnique({
          where: { workspaceId_version: { workspaceId, version } },
          select: { version: true, wrappedKey: true, masterKeyId: true },
        })
        .finally(() => this.inflight.delete(id));
      this.inflight.set(id, pending);
    }
    return pending;
  }

  private async missingKeyError(workspaceId: string, version: number): Promise<VaultError> {
    const latest = await this.prisma.workspaceKey.findFirst({ where: { workspaceId }, orderBy: { version: "desc" }, select: { version: true } });
    if (latest === null) {
      return new VaultError("KEY_DESTROYED", "The workspace's data keys were destroyed (or never created): this secret can no longer be opened.");
    }
    if (latest.version > version) {
      return new VaultError(
        "KEY_VERSION_RETIRED",
        `The sealed secret names data key version ${version}, which a rotation retired: read the re-encrypted secret again and open that.`,
      );
    }
    return new VaultError("DECRYPT_FAILED", `The sealed secret names data key version ${version}, which this workspace never had.`);
  }
}
