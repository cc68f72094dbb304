import { ProtocolError, ProtocolErrorCode, Server, type CallToolResult, type Tool } from "@modelcontextprotocol/server";
import type { McpTool } from "@nagent/registry";
import { SEARCH_MAX_RESULTS, type McpTools, type ToolOutcome, type ToolScope } from "../../services/mcp-tools";

/** Tools per tools/list page. Above the Scale AI catalogue's 40, so clients that ignore `nextCursor` still see all. */
export const TOOLS_PAGE_SIZE = 100;

const SEARCH_TOOL: Tool = {
  name: "search_tools",
  title: "Search tools",
  description: "Find the tools for a task, described in plain words (e.g. \"tag a task\", \"who is on my team\"). Returns the best matches with their full input and output schemas, behaviour hints and whether the connection they need is ready; call one with call_tool.",
  inputSchema: {
    type: "object",
    properties: {
      query: { type: "string", minLength: 1, maxLength: 200, description: "What you want to do, in a few words." },
      limit: { type: "integer", minimum: 1, maximum: SEARCH_MAX_RESULTS, default: 5, description: "How many matches to return." },
    },
    required: ["query"],
    additionalProperties: false,
  },
  outputSchema: {
    type: "object",
    properties: { tools: { type: "array", items: { type: "object" } } },
    required: ["tools"],
  },
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
};

const CALL_TOOL: Tool = {
  name: "call_tool",
  title: "Call a tool",
  description: "Run a tool found with search_tools: its name (slug) and the arguments its inputSchema asks for. A bad argument comes back as an error naming its JSON pointer.",
  inputSchema: {
    type: "object",
    properties: {
      slug: { type: "string", minLength: 1, maxLength: 128, description: "The tool's name from search_tools, e.g. SCALE_AI_CREATE_BATCH." },
      arguments: { type: "object", description: "The tool's arguments, as its inputSchema says." },
    },
    required: ["slug", "arguments"],
    additionalProperties: false,
  },
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
};

/** The cursor of tools/list: base64url of the offset. */
export function pageTools<T>(tools: readonly T[], cursor: string | undefined, size = TOOLS_PAGE_SIZE): { tools: T[]; nextCursor?: string } {
  let start = 0;
  if (cursor !== undefined) {
    const n = /^[A-Za-z0-9_-]{1,16}$/.test(cursor) ? Number(Buffer.from(cursor, "base64url").toString("utf8")) : NaN;
    if (!Number.isInteger(n) || n < 0 || n > tools.length) throw new ProtocolError(ProtocolErrorCode.InvalidParams, "The cursor is not one this server issued.");
    start = n;
  }
  const end = start + size;
  return { tools: tools.slice(start, end), ...(end < tools.length ? { nextCursor: Buffer.from(String(end), "utf8").toString("base64url") } : {}) };
}

/** One JSON text block: what a model reads (clients that ignore structuredContent get the same data). */
const text = (value: unknown) => ({ type: "text" as const, text: JSON.stringify(value) });

/** A tool outcome as MCP's CallToolResult: `structuredContent` only when the tool declares an object output. */
export function renderOutcome(outcome: ToolOutcome, structured: boolean): CallToolResult {
  if (!outcome.ok) {
    const error = { code: outcome.code, message: outcome.message, ...(outcome.retryable !== undefined ? { retryable: outcome.retryable } : {}), ...(outcome.details !== undefined ? { details: outcome.details } : {}) };
    return { isError: true, content: [text({ error, run_id: outcome.runId })], _meta: { run_id: outcome.runId, error_code: outcome.code } };
  }
  const isObject = typeof outcome.data === "object" && outcome.data !== null && !Array.isArray(outcome.data);
  return {
    content: [text(outcome.data)],
    ...(structured && isObject ? { structuredContent: outcome.data as Record<string, unknown> } : {}),
    _meta: { run_id: outcome.runId },
  };
}

function idempotencyKeyOf(meta: unknown, header: string | undefined): string | undefined {
  const fromMeta = typeof meta === "object" && meta !== null ? (meta as Record<string, unknown>)["idempotency_key"] : undefined;
  const key = typeof fromMeta === "string" ? fromMeta : header;
  return key !== undefined && /^[\x21-\x7e]{1,255}$/.test(key) ? key : undefined;
}

/**
 * An MCP server for one request's scope (stateless: built per HTTP request, for either protocol era: the same
 * instance answers a 2025-era request after its `initialize`-less stateless handshake, or a 2026-07-28 request
 * carrying its per-request envelope; `server/discover` is installed by `createMcpHandler`). Low-level `Server`
 * rather than `McpServer`: the tools are JSON Schema documents from the registry (not zod/Standard Schema), and
 * McpServer's built-in tools/list answers everything in one page where ours pages with `nextCursor`.
 */
export function buildMcpServer(tools: McpTools, scope: ToolScope, request: { idempotencyKey?: string | undefined }): Server {
  const server = new Server({ name: "nagent-integrations", version: "0.1.0" }, {
    capabilities: { tools: { listChanged: false } },
    instructions: scope.toolset?.mode === "search"
      ? "Find the right tool with search_tools, then run it with call_tool. Every call is recorded as a run (GET /v1/runs)."
      : "Each tool runs one action of a connected integration; every call is recorded as a run (GET /v1/runs).",
  });
  const search = scope.toolset?.mode === "search";
  const definition = (slug: string): McpTool => tools.tool(slug);

  server.setRequestHandler("tools/list", async (req) => {
    const list: Tool[] = search ? [SEARCH_TOOL, CALL_TOOL] : scope.slugs.map((slug) => definition(slug) as unknown as Tool);
    return pageTools(list, req.params?.cursor);
  });

  server.setRequestHandler("tools/call", async (req): Promise<CallToolResult> => {
    const { name } = req.params;
    const args = (req.params.arguments ?? {}) as Record<string, unknown>;
    const key = idempotencyKeyOf(req.params._meta, request.idempotencyKey);
    if (search && name === "search_tools") {
      const query = typeof args["query"] === "string" ? args["query"].slice(0, 200) : "";
      const limit = Number.isInteger(args["limit"]) ? Math.max(1, Number(args["limit"])) : 5;
      if (query.trim() === "") return renderOutcome({ ok: false, runId: null, code: "VALIDATION_FAILED", message: "/query: must be a non-empty string" }, false);
      const found = tools.search(scope, query, limit).map((slug) => ({ ...definition(slug), connection_ready: scope.connectionReady(slug) }));
      return { content: [text({ tools: found })], structuredContent: { tools: found } };
    }
    if (search && name === "call_tool") {
      const slug = typeof args["slug"] === "string" ? args["slug"] : "";
      const inner = args["arguments"];
      if (typeof inner !== "object" || inner === null || Array.isArray(inner)) {
        return renderOutcome({ ok: false, runId: null, code: "VALIDATION_FAILED", message: "/arguments: must be an object" }, false);
      }
      return renderOutcome(await tools.call(scope, slug, inner as Record<string, unknown>, key), false);
    }
    if (search) return renderOutcome({ ok: false, runId: null, code: "NOT_FOUND", message: `No tool ${name}; this tool set has search_tools and call_tool.` }, false);
    const outcome = await tools.call(scope, name, args, key);
    const outputSchema = outcome.ok ? definition(name).outputSchema : undefined;
    // The era's codec shapes the result (on 2025-era wires a non-object structuredContent would be wrapped).
    return server.projectCallToolResult(renderOutcome(outcome, outputSchema !== undefined), outputSchema as Record<string, unknown> | undefined);
  });
  return server;
}
