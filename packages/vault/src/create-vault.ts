import type { MasterKey } from "@nagent/config";
import type { PrismaClient } from "@nagent/db";
import { sodiumReady } from "./aead";
import { assertKeyringCoversKeys } from "./check-keyring";
import { canonicalContext, canonicalWorkspaceId, type SecretContext } from "./context";
import { destroyWorkspaceKeys } from "./destroy-workspace-keys";
import { decodeEnvelope } from "./envelope";
import { ensureWorkspaceKey, type EnsureResult } from "./ensure-workspace-key";
import { isVaultError, VaultError } from "./errors";
import { KeyCache, type KeyCacheOptions } from "./key-cache";
import { KeyResolver } from "./key-resolver";
import { createKeyring } from "./keyring";
import { rewrapAll, type RewrapOptions, type RewrapResult } from "./rewrap-all";
import { rotateWorkspaceKey, type RotationResult } from "./rotate-workspace-key";
import { openWithKey, sealWithKey, toBytes } from "./secret-codec";

export interface VaultOptions {
  readonly prisma: PrismaClient;
  /** The keyring (`loadConfig(env).masterKeys`); the last key is the active one. The vault keeps its own copy. */
  readonly masterKeys: readonly MasterKey[];
  /** Bounds of the in-process cache of unwrapped data keys (default 10,000 keys for 60 s). */
  readonly cache?: KeyCacheOptions;
}

/** The credentials vault. Every method validates its ids; every failure it means is a `VaultError` with a `code`. */
export interface Vault {
  /** Id of the master key new and rewrapped data keys are wrapped with. */
  readonly activeMasterKeyId: string;
  /**
   * Seals a secret with the workspace's active data key, bound to the workspace and `context`. Returns the envelope
   * to store (e.g. in `connection.ciphertext`). Reads the active key version from PostgreSQL on each call.
   */
  seal(workspaceId: string, plaintext: string | Uint8Array, context: SecretContext): Promise<Buffer<ArrayBuffer>>;
  /**
   * Opens an envelope sealed for this workspace and context. Costs microseconds when the data key is cached, one
   * indexed read and an unwrap otherwise. Wipe the returned buffer (`fill(0)`) when done with it.
   */
  open(workspaceId: string, envelope: Uint8Array, context: SecretContext): Promise<Buffer>;
  /**
   * Opens `held`, an envelope read from a row that a data-key rotation rewrites (connection credentials, a run's
   * sealed input, a subscription's secret). If a rotation retired the version it names since it was read
   * (`KEY_VERSION_RETIRED`), opens what `reread()` reads now (the re-sealed envelope); a row gone (null) keeps the error.
   */
  openLatest(workspaceId: string, context: SecretContext, held: Uint8Array, reread: () => Promise<Uint8Array | null>): Promise<Buffer>;
  /** Creates the workspace's first data key unless it has one; idempotent and safe under concurrency. */
  ensureWorkspaceKey(workspaceId: string): Promise<EnsureResult>;
  /** Data-key rotation: a new version, every sealed column (`SEALED_COLUMNS`) re-encrypted under it, the old version deleted. */
  rotateWorkspaceKey(workspaceId: string): Promise<RotationResult>;
  /** Crypto-shredding: deletes every data key of the workspace; its secrets then fail with `KEY_DESTROYED`. */
  destroyWorkspaceKeys(workspaceId: string): Promise<{ destroyed: number }>;
  /** Master-key rotation: rewraps every data key not wrapped by the active master key (resumable, idempotent). */
  rewrapAll(options?: RewrapOptions): Promise<RewrapResult>;
  /** Wipes the cached data keys and the vault's copies of the master keys; later calls throw `VAULT_CLOSED`. */
  close(): void;
}

/**
 * Builds the vault: checks the keyring (`INVALID_KEYRING`), loads libsodium, and checks that every master key id
 * workspace_key references is in the keyring (`UNKNOWN_MASTER_KEY`, naming the missing ids). Nothing is logged.
 */
export async function createVault(options: VaultOptions): Promise<Vault> {
  const { prisma } = options;
  const keyring = createKeyring(options.masterKeys);
  try {
    await sodiumReady();
    await assertKeyringCoversKeys(prisma, keyring);
  } catch (error) {
    keyring.wipe();
    throw error;
  }
  const cache = new KeyCache(options.cache);
  const resolver = new KeyResolver(prisma, keyring, cache);
  let closed = false;
  const live = (): void => {
    if (closed) throw new VaultError("VAULT_CLOSED", "The vault is closed.");
  };

  const open = async (workspaceId: string, envelope: Uint8Array, context: SecretContext): Promise<Buffer> => {
    live();
    const ws = canonicalWorkspaceId(workspaceId);
    const ctx = canonicalContext(context);
    const { keyVersion } = decodeEnvelope(envelope);
    return resolver.withKey(ws, keyVersion, (key) => openWithKey(key, envelope, ws, ctx));
  };

  return {
    activeMasterKeyId: keyring.active.id,
    async seal(workspaceId, plaintext, context) {
      live();
      const ws = canonicalWorkspaceId(workspaceId);
      const ctx = canonicalContext(context);
      const bytes = toBytes(plaintext);
      return resolver.withActiveKey(ws, (key, version) => sealWithKey(key, version, ws, ctx, bytes));
    },
    open,
    async openLatest(workspaceId, context, held, reread) {
      try {
        return await open(workspaceId, held, context);
      } catch (error) {
        if (!isVaultError(error, "KEY_VERSION_RETIRED")) throw error;
        const fresh = await reread();
        if (fresh === null) throw error;
        return open(workspaceId, fresh, context);
      }
    },
    async ensureWorkspaceKey(workspaceId) {
      live();
      return ensureWorkspaceKey({ prisma, keyring, cache }, canonicalWorkspaceId(workspaceId));
    },
    async rotateWorkspaceKey(workspaceId) {
      live();
      return rotateWorkspaceKey({ prisma, keyring, resolver }, canonicalWorkspaceId(workspaceId));
    },
    async destroyWorkspaceKeys(workspaceId) {
      live();
      return destroyWorkspaceKeys({ prisma, cache }, canonicalWorkspaceId(workspaceId));
    },
    async rewrapAll(rewrapOptions) {
      live();
      return rewrapAll({ prisma, keyring }, rewrapOptions);
    },
    close() {
      if (closed) return;
      closed = true;
      cache.clear();
      keyring.wipe();
    },
  };
}
