import type { PrismaClient } from "./generated/client";

/** Models whose rows belong to a workspace (they carry `workspace_id`). */
const TENANT_MODELS = new Set<string>(["ApiKey", "WorkspaceKey", "Connection", "Run", "Toolset"]);

const WHERE_OPERATIONS = new Set([
  "findUnique", "findUniqueOrThrow", "findFirst", "findFirstOrThrow", "findMany", "count", "aggregate", "groupBy",
  "update", "updateMany", "updateManyAndReturn", "delete", "deleteMany", "upsert",
]);
const DATA_OPERATIONS = new Set(["create", "createMany", "createManyAndReturn", "upsert"]);

/**
 * A Prisma client bound to one workspace: every query on a tenant model gets `workspaceId` added to its `where`
 * (reads, updates, deletes) or its `data` (creates), so a query cannot reach another workspace's rows by mistake.
 * A query that names a different workspace id throws. Queries on other models pass through unchanged.
 *
 * Extensions are cheap to create (Prisma shares the engine and pool), so build one per request.
 */
export function scopeToWorkspace(prisma: PrismaClient, workspaceId: string) {
  return prisma.$extends({
    name: "workspace-scope",
    query: {
      $allModels: {
        async $allOperations({ model, operation, args, query }) {
          if (!TENANT_MODELS.has(model)) return query(args);
          const a = (args ?? {}) as Record<string, unknown>;
          if (WHERE_OPERATIONS.has(operation)) a["where"] = withWorkspace(a["where"], workspaceId);
          if (DATA_OPERATIONS.has(operation)) {
            const key = operation === "upsert" ? "create" : "data";
            const data = a[key];
            a[key] = Array.isArray(data) ? data.map((d) => withWorkspace(d, workspaceId)) : withWorkspace(data, workspaceId);
          }
          return query(a as typeof args);
        },
      },
    },
  });
}

export type ScopedClient = ReturnType<typeof scopeToWorkspace>;

function withWorkspace(value: unknown, workspaceId: string): Record<string, unknown> {
  const object = (value ?? {}) as Record<string, unknown>;
  const given = object["workspaceId"];
  if (given !== undefined && given !== workspaceId) {
    throw new Error("A workspace-scoped query named another workspace.");
  }
  return { ...object, workspaceId };
}
