import { AppError } from "@nagent/errors";
import type { McpTool, Registry } from "@nagent/registry";
import type { ConnectionService } from "./connections";
import type { ExecuteAction } from "./execute-action";
import type { ToolsetService, ToolsetView } from "./toolsets";

/**
 * What an MCP session of one workspace (and optionally one tool set) sees: the tools, and calling one. Built per
 * request (the server is stateless), from the workspace's connections and the tool set's selection. Every call goes
 * through `executeAction`, the REST execute path: validation, connection, run row (source "mcp", the tool set id),
 * fairness, retries and idempotency are the same.
 */

/** A tool call's outcome, as the MCP route renders it into a CallToolResult. */
export type ToolOutcome =
  | { readonly ok: true; readonly runId: string; readonly data: unknown }
  | { readonly ok: false; readonly runId: string | null; readonly code: string; readonly message: string; readonly details?: unknown; readonly retryable?: boolean };

export interface ToolScope {
  readonly workspaceId: string;
  readonly toolset: ToolsetView | null;
  /** The action slugs this scope serves, in catalogue order. */
  readonly slugs: readonly string[];
  /** Whether a call of this action would find a usable connection now. */
  connectionReady(slug: string): boolean;
}

/** Most matches `search_tools` returns. */
export const SEARCH_MAX_RESULTS = 10;

export function createMcpTools(deps: { registry: Registry; connections: ConnectionService; executeAction: ExecuteAction; toolsets: ToolsetService }) {
  const { registry } = deps;
  const allActions = () => registry.listActions({ limit: 100 }).actions;

  return {
    /** The scope of a request to /mcp (toolsetId null) or /mcp/:toolset_id (404 when not this workspace's). */
    async scope(workspaceId: string, toolsetId: string | null): Promise<ToolScope> {
      const toolset = toolsetId === null ? null : await deps.toolsets.get(workspaceId, toolsetId);
      const connections = await deps.connections.list(workspaceId);
      const pinned = toolset?.connection_id ? connections.filter((c) => c.id === toolset.connection_id) : connections;
      const integrations = new Set(pinned.map((c) => c.integration));
      // A degraded connection still runs (only an invalid one fails fast).
      const ready = new Set(pinned.filter((c) => c.status !== "invalid" && (toolset?.connection_id ? true : c.is_default)).map((c) => c.integration));
      const chosen = (a: { slug: string; group: string | null }) => {
        if (!toolset || (toolset.actions.length === 0 && toolset.groups.length === 0)) return true;
        return toolset.actions.includes(a.slug) || (a.group !== null && toolset.groups.includes(a.group));
      };
      const slugs = allActions().filter((a) => integrations.has(a.integration) && chosen(a)).map((a) => a.slug);
      return {
        workspaceId, toolset, slugs,
        connectionReady: (slug) => ready.has(registry.getAction(slug)?.integration ?? ""),
      };
    },

    /** The MCP definition of an action (bundled schemas, annotations from the manifest). */
    tool(slug: string): McpTool {
      return registry.toTool(slug, "mcp") as McpTool;
    },

    /** The scope's actions ranked for a free-text query, best first. */
    search(scope: ToolScope, query: string, limit: number): string[] {
      const allowed = new Set(scope.slugs);
      return registry.searchActions(query, (slug) => allowed.has(slug)).slice(0, Math.min(limit, SEARCH_MAX_RESULTS));
    },

    /** Runs an action as a tool call: a sync execute, its envelope or error as the outcome. */
    async call(scope: ToolScope, slug: string, args: Record<string, unknown>, idempotencyKey: string | undefined): Promise<ToolOutcome> {
      if (!scope.slugs.includes(slug)) {
        return { ok: false, runId: null, code: "NOT_FOUND", message: `No tool ${slug} here${scope.toolset ? ` (tool set ${scope.toolset.name})` : ""}; list the tools${scope.toolset?.mode === "search" ? " with search_tools" : ""}.` };
      }
      try {
        const result = await deps.executeAction(scope.workspaceId, slug, {
          input: args, mode: "sync", source: "mcp", toolset_id: scope.toolset?.id ?? null,
          ...(scope.toolset?.connection_id ? { connection_id: scope.toolset.connection_id } : {}),
        }, idempotencyKey);
        if (result.kind === "pending") {
          return { ok: false, runId: result.runId, code: "RUN_PENDING", message: `The run ${result.runId} is still ${result.status}; read it later with GET /v1/runs/${result.runId}.`, retryable: true };
        }
        const { envelope } = result;
        if (envelope.successful) return { ok: true, runId: result.runId, data: envelope.data };
        const error = envelope.error ?? { code: "INTERNAL", message: "The run failed without an error.", retryable: false };
        return { ok: false, runId: result.runId, code: error.code, message: error.message, retryable: error.retryable };
      } catch (error) {
        if (!(error instanceof AppError)) throw error;
        return { ok: false, runId: null, code: error.code, message: argumentPointers(error.message), details: argumentDetails(error.details) };
      }
    },
  };
}

export type McpTools = ReturnType<typeof createMcpTools>;

/**
 * REST names an input problem by its pointer into the request body (`/input/project`); a tool's arguments are the
 * input itself, so the model reads `/project`.
 */
function argumentPointers(message: string): string {
  return message.replace(/\/input(?=[/ :])/g, "").replace(/ \/input /g, " / ");
}

function argumentDetails(details: unknown): unknown {
  if (!Array.isArray(details)) return details;
  return details.map((d: unknown) => {
    if (typeof d !== "object" || d === null) return d;
    const { in: _in, path, ...rest } = d as { in?: unknown; path?: unknown };
    return { ...rest, path: typeof path === "string" ? path.replace(/^\/input/, "") || "/" : path };
  });
}
