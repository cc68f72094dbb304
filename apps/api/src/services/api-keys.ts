import { AppError, notFound } from "@nagent/errors";
import type pg from "pg";
import { scopeToWorkspace, uuidv7, type PgListener, type PrismaClient } from "@nagent/db";
import { generateApiKey, isWellFormedKey, prefixOf, hashKey, sameHash } from "./api-key-secret";

/** How many keys (active or revoked) a workspace may hold; listing them all stays one small page. */
export const MAX_KEYS_PER_WORKSPACE = 50;
/** last_used_at is written at most this often per key, so authentication does not write on every request. */
const LAST_USED_RESOLUTION_MS = 60_000;

export interface ApiKeyView {
  id: string;
  name: string;
  prefix: string;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

export interface Principal {
  readonly workspaceId: string;
  readonly apiKeyId: string;
}

type KeyRow = { id: string; name: string; prefix: string; createdAt: Date; lastUsedAt: Date | null; revokedAt: Date | null };

/** Writes last_used_at at most once a minute per key; fire and forget (a failure only delays the bookkeeping). */
function touchLater(pool: pg.Pool, entry: { principal: Principal; lastUsedAt: number }): void {
  if (Date.now() - entry.lastUsedAt <= LAST_USED_RESOLUTION_MS) return;
  entry.lastUsedAt = Date.now();
  pool.query({ name: "touch-api-key", text: "UPDATE api_key SET last_used_at = now() WHERE id = $1", values: [entry.principal.apiKeyId] }).catch(() => {});
}

export function toApiKeyView(row: KeyRow): ApiKeyView {
  return {
    id: row.id,
    name: row.name,
    prefix: `nk_${row.prefix}`,
    created_at: row.createdAt.toISOString(),
    last_used_at: row.lastUsedAt?.toISOString() ?? null,
    revoked_at: row.revokedAt?.toISOString() ?? null,
  };
}

/** The channel on which a revoked key or a deleted workspace is announced, so every API process drops it at once. */
export const AUTH_CHANGED_CHANNEL = "nagent_auth_changed";
const CACHE_TTL_MS = 60_000;
const CACHE_MAX = 10_000;

/**
 * Workspace API keys. `authenticate` runs on every request: a verified key is kept in process memory (by its hash)
 * for up to a minute, but only while this process's LISTEN connection is up; a revocation or a workspace deletion is
 * announced on AUTH_CHANGED_CHANNEL and evicts it in every process within milliseconds (in the revoking process,
 * before the revoke returns). When the connection drops, the cache is emptied and bypassed until it is back.
 */
export function createApiKeyService(deps: { prisma: PrismaClient; pool: pg.Pool; listener?: PgListener }) {
  const { prisma, pool, listener } = deps;
  const cache = new Map<string, { principal: Principal; lastUsedAt: number; expiresAt: number }>();
  const evict = (match: (p: Principal) => boolean) => {
    for (const [hash, entry] of cache) if (match(entry.principal)) cache.delete(hash);
  };
  listener?.listen(AUTH_CHANGED_CHANNEL, (payload) => {
    try {
      const change = JSON.parse(payload) as { api_key_id?: string; workspace_id?: string };
      evict((p) => p.apiKeyId === change.api_key_id || p.workspaceId === change.workspace_id);
    } catch {
      cache.clear();
    }
  });
  listener?.onReconnect(() => cache.clear());
  const touch = (entry: { principal: Principal; lastUsedAt: number }) => touchLater(pool, entry);

  return {
    /** Drops this process's cached keys of a workspace (after it is deleted; other processes hear the NOTIFY). */
    forgetWorkspace(workspaceId: string): void {
      evict((p) => p.workspaceId === workspaceId);
    },

    /** Creates a key; the plaintext is returned once and never stored. */
    async create(workspaceId: string, name: string): Promise<{ view: ApiKeyView; key: string }> {
      const db = scopeToWorkspace(prisma, workspaceId);
      const count = await db.apiKey.count({});
      if (count >= MAX_KEYS_PER_WORKSPACE) {
        throw new AppError("CONFLICT", `A workspace holds at most ${MAX_KEYS_PER_WORKSPACE} API keys; revoke and delete unused ones.`);
      }
      const secret = generateApiKey();
      const row = await db.apiKey.create({ data: { id: uuidv7(), workspaceId, name, prefix: secret.prefix, hash: secret.hash } });
      return { view: toApiKeyView(row), key: secret.key };
    },

    async list(workspaceId: string): Promise<ApiKeyView[]> {
      const rows = await scopeToWorkspace(prisma, workspaceId).apiKey.findMany({ orderBy: { createdAt: "desc" } });
      return rows.map(toApiKeyView);
    },

    /** Revokes a key at once. Refuses to revoke the workspace's last active key, which would lock it out. */
    async revoke(workspaceId: string, id: string): Promise<ApiKeyView> {
      // The scoped client's interactive transaction keeps the workspace scope on every query inside it.
      return scopeToWorkspace(prisma, workspaceId).$transaction(async (db) => {
        const row = await db.apiKey.findFirst({ where: { id } });
        if (!row) throw notFound("API key");
        if (row.revokedAt) return toApiKeyView(row);
        // Lock the workspace's active keys so two concurrent revocations cannot both pass the check.
        const active = await db.$queryRaw<{ id: string }[]>`SELECT id FROM api_key WHERE workspace_id = ${workspaceId}::uuid AND revoked_at IS NULL FOR UPDATE`;
        if (active.length <= 1) {
          throw new AppError("CONFLICT", "This is the workspace's last active API key; create another before revoking it.");
        }
        const updated = await db.apiKey.update({ where: { id }, data: { revokedAt: new Date() } });
        await db.$executeRaw`SELECT pg_notify(${AUTH_CHANGED_CHANNEL}, ${JSON.stringify({ api_key_id: id })})`;
        evict((p) => p.apiKeyId === id);
        return toApiKeyView(updated);
      });
    },

    /** The principal of a console session's key while the key is active and its workspace exists, or null. */
    async active(principal: Principal): Promise<Principal | null> {
      const { rows } = await pool.query({
        name: "active-api-key",
        text: `SELECT 1 FROM api_key k JOIN workspace w ON w.id = k.workspace_id
               WHERE k.id = $1 AND k.workspace_id = $2 AND k.revoked_at IS NULL AND w.deleted_at IS NULL`,
        values: [principal.apiKeyId, principal.workspaceId],
      });
      return rows.length === 1 ? { workspaceId: principal.workspaceId, apiKeyId: principal.apiKeyId } : null;
    },

    /**
     * Resolves a bearer key to its workspace, or null. The row is found by its non-secret prefix, then the hash is
     * compared in constant time. Revoked keys and keys of deleted workspaces are refused at once (no cache).
     */
    async authenticate(key: string): Promise<Principal | null> {
      if (!isWellFormedKey(key)) return null;
      const hash = hashKey(key);
      const cached = cache.get(hash);
      if (cached && cached.expiresAt > Date.now() && listener?.connected) {
        touch(cached);
        return cached.principal;
      }
      // Every request runs this: one prepared statement on the pool (no ORM on the hot path, see README).
      const { rows } = await pool.query<{ id: string; workspace_id: string; hash: string; last_used_at: Date | null }>({
        name: "auth-api-key",
        text: `SELECT k.id, k.workspace_id, k.hash, k.last_used_at FROM api_key k JOIN workspace w ON w.id = k.workspace_id
               WHERE k.prefix = $1 AND k.revoked_at IS NULL AND w.deleted_at IS NULL`,
        values: [prefixOf(key)],
      });
      const row = rows[0];
      if (!row || !sameHash(hash, row.hash)) return null;
      const entry = { principal: { workspaceId: row.workspace_id, apiKeyId: row.id }, lastUsedAt: row.last_used_at?.getTime() ?? 0, expiresAt: Date.now() + CACHE_TTL_MS };
      touch(entry);
      if (listener?.connected) {
        if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value!);
        cache.set(hash, entry);
      }
      return entry.principal;
    },
  };
}

export type ApiKeyService = ReturnType<typeof createApiKeyService>;
