import type pg from "pg";
import { AppError, notFound } from "@nagent/errors";
import { listConnectionEvents, scopeToWorkspace, type PrismaClient } from "@nagent/db";
import { toConnectionEventView, toConnectionView, type ConnectionEventView, type ConnectionRow, type ConnectionView } from "./connection-view";

/** A workspace's connections, all integrations together; listing them all stays one page. */
export const MAX_CONNECTIONS_PER_WORKSPACE = 100;

export interface ConnectionReadDeps {
  readonly prisma: PrismaClient;
  readonly pool: pg.Pool;
  /** The platform's public origin (inbound callback URLs). */
  readonly publicUrl: string;
}

/** What reads connections without changing them: lookups, lists, the status history, and the one a run uses. */
export function createConnectionReads(deps: ConnectionReadDeps) {
  const { prisma, pool } = deps;
  const view = (row: ConnectionRow) => toConnectionView(row, deps.publicUrl);

  async function find(workspaceId: string, id: string): Promise<ConnectionRow> {
    const row = await scopeToWorkspace(prisma, workspaceId).connection.findFirst({ where: { id } });
    if (!row) throw notFound("Connection");
    return row;
  }

  return {
    view,
    find,

    async list(workspaceId: string, filter: { integration?: string | undefined } = {}): Promise<ConnectionView[]> {
      const rows = await scopeToWorkspace(prisma, workspaceId).connection.findMany({
        where: filter.integration ? { integration: filter.integration } : {},
        orderBy: [{ createdAt: "desc" }, { id: "desc" }],
        take: MAX_CONNECTIONS_PER_WORKSPACE,
      });
      return rows.map(view);
    },

    async get(workspaceId: string, id: string): Promise<ConnectionView> {
      return view(await find(workspaceId, id));
    },

    /** The connection's status transitions, newest first (keyset cursor). */
    async events(workspaceId: string, id: string, query: { limit?: number | undefined; cursor?: string | undefined }): Promise<{ events: ConnectionEventView[]; next_cursor: string | null }> {
      await find(workspaceId, id);
      const limit = query.limit ?? 50;
      const before = query.cursor === undefined ? undefined : decodeEventCursor(query.cursor);
      const rows = await listConnectionEvents(pool, workspaceId, id, { limit: limit + 1, before });
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return { events: page.map(toConnectionEventView), next_cursor: rows.length > limit && last ? encodeEventCursor(last.created_at, last.id) : null };
    },

    /** The connection a run uses: the given one, or the workspace's default for the integration. */
    async resolveForRun(workspaceId: string, integration: string, connectionId: string | undefined): Promise<{ id: string }> {
      // Every execute runs this: a prepared statement on the pool rather than the ORM (see README).
      const { rows } = await pool.query<{ id: string; integration: string; status: string }>(connectionId
        ? { name: "resolve-connection-by-id", text: "SELECT id, integration, status FROM connection WHERE workspace_id = $1 AND id = $2", values: [workspaceId, connectionId] }
        : { name: "resolve-default-connection", text: "SELECT id, integration, status FROM connection WHERE workspace_id = $1 AND integration = $2 AND is_default", values: [workspaceId, integration] });
      const row = rows[0];
      if (!row) {
        if (connectionId) throw notFound("Connection");
        throw new AppError("CONNECTION_REQUIRED", `The workspace has no ${integration} connection; create one (POST /v1/connections) or pass connection_id.`);
      }
      if (row.integration !== integration) {
        throw new AppError("VALIDATION_FAILED", `The connection belongs to ${row.integration}, not ${integration}.`, { details: [{ in: "body", path: "/connection_id", message: `must be a ${integration} connection`, keyword: "integration" }] });
      }
      if (row.status === "invalid") {
        throw new AppError("CONNECTION_INVALID", "The connection is invalid: the upstream rejected its credentials. Replace them (PATCH /v1/connections/:id with new credentials) or, if the key works again, test it (POST /v1/connections/:id/test); GET /v1/connections/:id/events says why.");
      }
      return { id: row.id };
    },
  };
}

const encodeEventCursor = (createdAt: Date, id: string) => Buffer.from(`${createdAt.toISOString()}|${id}`).toString("base64url");
function decodeEventCursor(cursor: string): { createdAt: Date; id: string } {
  const [at, id] = Buffer.from(cursor, "base64url").toString("utf8").split("|");
  const createdAt = new Date(at ?? "");
  if (!id || !/^[0-9a-f-]{36}$/i.test(id) || Number.isNaN(createdAt.getTime())) {
    throw new AppError("INVALID_CURSOR", "The cursor is not one this API issued; start again without it.");
  }
  return { createdAt, id };
}
