import { AppError, notFound } from "@nagent/errors";
import { uuidv7, type PrismaClient } from "@nagent/db";
import { VaultError, type SealedKind, type Vault } from "@nagent/vault";
import { generateApiKey } from "./api-key-secret";
import { AUTH_CHANGED_CHANNEL } from "./api-keys";

export interface WorkspaceView {
  id: string;
  name: string;
  created_at: string;
}

/** A page of the workspace listing (admin): ordered by id, i.e. by creation (ids are UUIDv7). */
export interface WorkspacePage {
  workspaces: WorkspaceView[];
  next_cursor: string | null;
}

const UUID_TEXT = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The cursor after a workspace: its id, base64url-encoded (opaque to clients). */
function encodeWorkspaceCursor(id: string): string {
  return Buffer.from(`w:${id}`, "utf8").toString("base64url");
}

function decodeWorkspaceCursor(cursor: string): string {
  const text = /^[A-Za-z0-9_-]{1,64}$/.test(cursor) ? Buffer.from(cursor, "base64url").toString("utf8") : "";
  const id = text.startsWith("w:") ? text.slice(2) : "";
  if (!UUID_TEXT.test(id)) throw new AppError("INVALID_CURSOR", "The cursor is not one this API issued; start again without it.");
  return id;
}

const toView = (row: { id: string; name: string; createdAt: Date }): WorkspaceView => ({ id: row.id, name: row.name, created_at: row.createdAt.toISOString() });

/**
 * A workspace's own settings. `output_check`: what an upstream answer that does not match the action's output schema
 * does to the run — "record" (default: recorded in the run's output_check and counted; the run succeeds) or "strict"
 * (the run ends successful:false with OUTPUT_SCHEMA_MISMATCH, the data kept for inspection).
 */
export interface WorkspaceSettings {
  output_check: "record" | "strict";
}

export function createWorkspaceService(deps: { prisma: PrismaClient; vault: Vault; forgetWorkspace?: (id: string) => void }) {
  const { prisma, vault } = deps;
  return {
    /** The workspace while it exists (not deleted), or null. */
    async find(id: string): Promise<WorkspaceView | null> {
      if (!UUID_TEXT.test(id)) return null;
      const row = await prisma.workspace.findFirst({ where: { id, deletedAt: null }, select: { id: true, name: true, createdAt: true } });
      return row ? toView(row) : null;
    },

    /**
     * Every workspace that exists (admin: this query is deliberately not scoped to one), oldest first, by keyset on
     * the primary key; `q` keeps those whose name contains it (case-insensitive).
     */
    async list(query: { q?: string | undefined; limit: number; cursor?: string | undefined }): Promise<WorkspacePage> {
      const after = query.cursor === undefined ? undefined : decodeWorkspaceCursor(query.cursor);
      const q = query.q?.trim();
      const rows = await prisma.workspace.findMany({
        where: { deletedAt: null, ...(after ? { id: { gt: after } } : {}), ...(q ? { name: { contains: q, mode: "insensitive" as const } } : {}) },
        orderBy: { id: "asc" },
        take: query.limit + 1,
        select: { id: true, name: true, createdAt: true },
      });
      const page = rows.slice(0, query.limit);
      const last = page.at(-1);
      return { workspaces: page.map(toView), next_cursor: rows.length > query.limit && last ? encodeWorkspaceCursor(last.id) : null };
    },

    /** Creates a workspace and its first API key in one transaction; the key's plaintext is returned once. */
    async create(name: string): Promise<{ workspace: WorkspaceView; apiKey: string; apiKeyId: string }> {
      const secret = generateApiKey();
      const workspaceId = uuidv7();
      const apiKeyId = uuidv7();
      const [workspace] = await prisma.$transaction([
        prisma.workspace.create({ data: { id: workspaceId, name } }),
        prisma.apiKey.create({ data: { id: apiKeyId, workspaceId, name: "default", prefix: secret.prefix, hash: secret.hash } }),
      ]);
      return {
        workspace: toView(workspace),
        apiKey: secret.key,
        apiKeyId,
      };
    },

    /**
     * Deletes a workspace: marks it deleted (its API keys stop working at once), destroys its data keys
     * (crypto-shredding: every ciphertext it ever had can no longer be opened, wherever a copy survives), then
     * deletes its connections. Its run history stays until retention removes it.
     */
    /** The workspace's settings (GET /v1/workspace/settings). */
    async settings(id: string): Promise<WorkspaceSettings> {
      const workspace = await prisma.workspace.findFirst({ where: { id, deletedAt: null }, select: { outputCheck: true } });
      if (!workspace) throw notFound("Workspace");
      return { output_check: workspace.outputCheck === "strict" ? "strict" : "record" };
    },

    /** Changes the workspace's settings; what the body leaves out stays. */
    async updateSettings(id: string, patch: Partial<WorkspaceSettings>): Promise<WorkspaceSettings> {
      if (patch.output_check !== undefined) {
        const updated = await prisma.workspace.updateMany({ where: { id, deletedAt: null }, data: { outputCheck: patch.output_check } });
        if (updated.count === 0) throw notFound("Workspace");
      }
      return this.settings(id);
    },

    /**
     * Data-key rotation: a new key version for the workspace, every value sealed with its data keys re-encrypted
     * (connections, subscriptions' signing secrets, live runs' sensitive input), the old version gone.
     */
    async rotateDataKey(id: string): Promise<{ version: number; reencrypted: number; reencrypted_by_kind: Record<SealedKind, number>; unreadable: string[] }> {
      const workspace = await prisma.workspace.findFirst({ where: { id, deletedAt: null }, select: { id: true } });
      if (!workspace) throw notFound("Workspace");
      const result = await vault.rotateWorkspaceKey(id).catch((error: unknown) => {
        // A workspace gets its data key with its first connection: before that there is nothing to rotate.
        if (error instanceof VaultError && error.code === "KEY_NOT_FOUND") throw new AppError("CONFLICT", "The workspace has no data key yet (it has never stored a connection); there is nothing to rotate.");
        throw error;
      });
      return { version: result.version, reencrypted: result.reencrypted, reencrypted_by_kind: { ...result.reencryptedByKind }, unreadable: [...result.unreadable] };
    },

    async remove(id: string): Promise<void> {
      const marked = await prisma.workspace.updateMany({ where: { id, deletedAt: null }, data: { deletedAt: new Date() } });
      if (marked.count === 0) throw notFound("Workspace");
      // Every API process drops its cached keys of this workspace (see api-keys.ts).
      await prisma.$executeRaw`SELECT pg_notify(${AUTH_CHANGED_CHANNEL}, ${JSON.stringify({ workspace_id: id })})`;
      deps.forgetWorkspace?.(id);
      await vault.destroyWorkspaceKeys(id);
      await prisma.connection.deleteMany({ where: { workspaceId: id } });
    },
  };
}

export type WorkspaceService = ReturnType<typeof createWorkspaceService>;
