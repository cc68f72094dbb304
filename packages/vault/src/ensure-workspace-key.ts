import { uuidv7, type PrismaClient } from "@nagent/db";
import { newKey, wipe } from "./aead";
import { VaultError } from "./errors";
import type { KeyCache } from "./key-cache";
import type { Keyring } from "./keyring";
import { wrapDataKey } from "./wrapped-key";

export interface EnsureResult {
  /** The workspace's active data key version. */
  readonly version: number;
  /** Whether this call created the first data key. */
  readonly created: boolean;
}

/**
 * Gives a workspace its first data key, unless it has one. Idempotent and safe under concurrency: the insert is
 * conditional (no key row yet) and the unique (workspace_id, version) index settles a race, so parallel calls create
 * one key. Refuses a workspace that does not exist or is soft-deleted, so a shredded workspace never gets a key again.
 */
export async function ensureWorkspaceKey(deps: { prisma: PrismaClient; keyring: Keyring; cache: KeyCache }, workspaceId: string): Promise<EnsureResult> {
  const { prisma, keyring, cache } = deps;
  const existing = await latestVersion(prisma, workspaceId);
  if (existing !== null) return { version: existing, created: false };

  const master = keyring.active;
  const key = newKey();
  let wrapped: Buffer<ArrayBuffer>;
  try {
    wrapped = wrapDataKey(key, workspaceId, 1, master);
  } catch (error) {
    wipe(key);
    throw error;
  }
  const inserted = await prisma.$executeRaw`
    INSERT INTO "workspace_key" ("id", "workspace_id", "version", "wrapped_key", "master_key_id")
    SELECT ${uuidv7()}::uuid, w."id", 1, ${wrapped}, ${master.id}
    FROM "workspace" w
    WHERE w."id" = ${workspaceId}::uuid
      AND w."deleted_at" IS NULL
      AND NOT EXISTS (SELECT 1 FROM "workspace_key" k WHERE k."workspace_id" = w."id")
    ON CONFLICT ("workspace_id", "version") DO NOTHING`;
  if (inserted === 1) {
    // The first seal will need it: keep it rather than unwrap it again.
    cache.adopt(workspaceId, 1, key);
    return { version: 1, created: true };
  }
  wipe(key);
  // Another caller won the race, or there is no live workspace to give a key to.
  const version = await latestVersion(prisma, workspaceId);
  if (version !== null) return { version, created: false };
  throw new VaultError("WORKSPACE_NOT_FOUND", "No live workspace with that id: a data key is only created for an existing, undeleted workspace.");
}

async function latestVersion(prisma: PrismaClient, workspaceId: string): Promise<number | null> {
  const row = await prisma.workspaceKey.findFirst({ where: { workspaceId }, orderBy: { version: "desc" }, select: { version: true } });
  return row?.version ?? null;
}
