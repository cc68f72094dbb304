import { AppError, notFound } from "@nagent/errors";
import { Prisma, scopeToWorkspace, uuidv7, type PrismaClient } from "@nagent/db";
import type { Registry } from "@nagent/registry";
import type { ConnectionService } from "./connections";

export type ToolsetMode = "all" | "search";

/** A tool set as the API and the MCP server see it (fields picked from the row). */
export interface ToolsetView {
  id: string;
  name: string;
  actions: string[];
  groups: string[];
  connection_id: string | null;
  mode: ToolsetMode;
  created_at: string;
  updated_at: string;
}

export interface ToolsetInput {
  readonly name: string;
  readonly actions?: readonly string[] | undefined;
  readonly groups?: readonly string[] | undefined;
  readonly connection_id?: string | null | undefined;
  readonly mode?: ToolsetMode | undefined;
}

interface ToolsetRow {
  id: string;
  name: string;
  actions: string[];
  groups: string[];
  connectionId: string | null;
  mode: string;
  createdAt: Date;
  updatedAt: Date;
}

const SELECT = { id: true, name: true, actions: true, groups: true, connectionId: true, mode: true, createdAt: true, updatedAt: true } as const;
/** A workspace holds at most this many tool sets (each is a row read on every MCP request to its URL). */
export const MAX_TOOLSETS = 200;

function toView(row: ToolsetRow): ToolsetView {
  return {
    id: row.id, name: row.name, actions: [...row.actions], groups: [...row.groups], connection_id: row.connectionId,
    mode: row.mode === "search" ? "search" : "all", created_at: row.createdAt.toISOString(), updated_at: row.updatedAt.toISOString(),
  };
}

/**
 * Tool sets: a workspace's named selections of actions (by slug, by group, or both; neither means every action),
 * optionally pinned to one connection, each served at its own MCP URL. Every query is scoped to the workspace, so
 * another workspace's tool set is simply not found.
 */
export function createToolsetService(deps: { prisma: PrismaClient; registry: Registry; connections: ConnectionService }) {
  const { registry } = deps;
  const isUniqueViolation = (error: unknown) => error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2002";
  const groupsKnown = () => new Set(registry.listActions({ limit: 100 }).actions.map((a) => a.group).filter((g): g is string => g !== null));

  /** Unknown slugs or groups answer 400 naming each one, with its JSON pointer in the body. */
  function checkSelection(input: Pick<ToolsetInput, "actions" | "groups">): void {
    const details: { in: string; path: string; message: string; keyword: string }[] = [];
    input.actions?.forEach((slug, i) => {
      if (!registry.hasAction(slug)) details.push({ in: "body", path: `/actions/${i}`, message: `no action ${slug}`, keyword: "action" });
    });
    const groups = groupsKnown();
    input.groups?.forEach((group, i) => {
      if (!groups.has(group)) details.push({ in: "body", path: `/groups/${i}`, message: `no group ${group} (known: ${[...groups].sort().join(", ")})`, keyword: "group" });
    });
    if (details.length > 0) throw new AppError("VALIDATION_FAILED", `${details[0]!.path}: ${details[0]!.message}.`, { details });
  }

  async function checkConnection(workspaceId: string, connectionId: string | null | undefined): Promise<void> {
    if (connectionId) await deps.connections.get(workspaceId, connectionId); // 404 when it is not this workspace's
  }

  const nameTaken = (name: string) => new AppError("NAME_TAKEN", `A tool set named "${name}" already exists.`);

  return {
    async create(workspaceId: string, input: ToolsetInput): Promise<ToolsetView> {
      checkSelection(input);
      await checkConnection(workspaceId, input.connection_id);
      const db = scopeToWorkspace(deps.prisma, workspaceId);
      if ((await db.toolset.count({ where: { workspaceId } })) >= MAX_TOOLSETS) {
        throw new AppError("CONFLICT", `A workspace holds at most ${MAX_TOOLSETS} tool sets; delete one first.`);
      }
      try {
        const row = await db.toolset.create({
          data: {
            id: uuidv7(), workspaceId, name: input.name, actions: [...new Set(input.actions ?? [])], groups: [...new Set(input.groups ?? [])],
            connectionId: input.connection_id ?? null, mode: input.mode ?? "all",
          },
          select: SELECT,
        });
        return toView(row);
      } catch (error) {
        if (isUniqueViolation(error)) throw nameTaken(input.name);
        throw error;
      }
    },

    async list(workspaceId: string): Promise<ToolsetView[]> {
      const rows = await scopeToWorkspace(deps.prisma, workspaceId).toolset.findMany({ where: { workspaceId }, select: SELECT, orderBy: [{ createdAt: "asc" }, { id: "asc" }] });
      return rows.map(toView);
    },

    async get(workspaceId: string, id: string): Promise<ToolsetView> {
      const row = await scopeToWorkspace(deps.prisma, workspaceId).toolset.findFirst({ where: { id, workspaceId }, select: SELECT });
      if (!row) throw notFound("Tool set");
      return toView(row);
    },

    async update(workspaceId: string, id: string, patch: Partial<ToolsetInput>): Promise<ToolsetView> {
      checkSelection(patch);
      await checkConnection(workspaceId, patch.connection_id);
      const data: Prisma.ToolsetUpdateManyMutationInput = { updatedAt: new Date() };
      if (patch.name !== undefined) data.name = patch.name;
      if (patch.actions !== undefined) data.actions = [...new Set(patch.actions)];
      if (patch.groups !== undefined) data.groups = [...new Set(patch.groups)];
      if (patch.connection_id !== undefined) data.connectionId = patch.connection_id;
      if (patch.mode !== undefined) data.mode = patch.mode;
      try {
        const { count } = await scopeToWorkspace(deps.prisma, workspaceId).toolset.updateMany({ where: { id, workspaceId }, data });
        if (count === 0) throw notFound("Tool set");
      } catch (error) {
        if (isUniqueViolation(error)) throw nameTaken(String(patch.name));
        throw error;
      }
      return this.get(workspaceId, id);
    },

    async remove(workspaceId: string, id: string): Promise<void> {
      const { count } = await scopeToWorkspace(deps.prisma, workspaceId).toolset.deleteMany({ where: { id, workspaceId } });
      if (count === 0) throw notFound("Tool set");
    },
  };
}

export type ToolsetService = ReturnType<typeof createToolsetService>;
