import { AppError, notFound } from "@nagent/errors";
import type pg from "pg";
import { scopeToWorkspace, uuidv7, type PrismaClient } from "@nagent/db";
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

export function createApiKeyService(deps: { prisma: PrismaClient; pool: pg.Pool }) {
  const { prisma, pool } = deps;

  return {
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
        return toApiKeyView(updated);
      });
    },

    /**
     * Resolves a bearer key to its workspace, or null. The row is found by its non-secret prefix, then the hash is
     * compared in constant time. Revoked keys and keys of deleted workspaces are refused at once (no cache).
     */
    async authenticate(key: string): Promise<Principal | null> {
      if (!isWellFormedKey(key)) return null;
      // Every request runs this: one prepared statement on the pool (no ORM on the hot path, see README).
      const { rows } = await pool.query<{ id: string; workspace_id: string; hash: string; last_used_at: Date | null }>({
        name: "auth-api-key",
        text: `SELECT k.id, k.workspace_id, k.hash, k.last_used_at FROM api_key k JOIN workspace w ON w.id = k.workspace_id
               WHERE k.prefix = $1 AND k.revoked_at IS NULL AND w.deleted_at IS NULL`,
        values: [prefixOf(key)],
      });
      const row = rows[0];
      if (!row || !sameHash(hashKey(key), row.hash)) return null;
      if (!row.last_used_at || Date.now() - row.last_used_at.getTime() > LAST_USED_RESOLUTION_MS) {
        // Fire and forget: the request does not wait for this bookkeeping write, and a failure only delays it.
        pool.query({ name: "touch-api-key", text: "UPDATE api_key SET last_used_at = now() WHERE id = $1", values: [row.id] }).catch(() => {});
      }
      return { workspaceId: row.workspace_id, apiKeyId: row.id };
    },
  };
}

export type ApiKeyService = ReturnType<typeof createApiKeyService>;
