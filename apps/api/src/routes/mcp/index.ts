import { Type } from "typebox";
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { FastifyReply, FastifyRequest } from "fastify";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { AppError } from "@nagent/errors";
import type { AppDeps } from "../../app";
import { bearerToken } from "../../plugins/auth";
import { Uuid } from "../../schemas/common";
import { createMcpTools } from "../../services/mcp-tools";
import { buildMcpServer } from "./server";

/** JSON-RPC error codes of the MCP error shape (the SDK's own are for protocol errors; these are the transport's). */
const UNAUTHORIZED = -32001;
const NOT_FOUND = -32002;

const JsonRpcError = Type.Object({
  jsonrpc: Type.Literal("2.0"),
  error: Type.Object({ code: Type.Integer(), message: Type.String() }),
  id: Type.Null(),
}, { title: "McpError" });
const JsonRpcMessage = Type.Object({}, {
  additionalProperties: true, maxProperties: 8, title: "JsonRpcRequest",
  description: "A JSON-RPC 2.0 request or notification of the Model Context Protocol (initialize, tools/list, tools/call, …).",
});
const ToolsetParams = Type.Object({ toolset_id: Uuid }, { additionalProperties: false });
const ProtectedResource = Type.Object({
  resource: Type.String(),
  bearer_methods_supported: Type.Array(Type.String()),
  resource_name: Type.String(),
  resource_documentation: Type.String(),
}, { title: "ProtectedResourceMetadata" });

const DESCRIPTION = [
  "The Model Context Protocol endpoint (Streamable HTTP, stateless: no Mcp-Session-Id; every POST is answered with one JSON message).",
  "Protocol versions 2024-11-05 to 2025-11-25 (what @modelcontextprotocol/sdk 1.32 negotiates). Authenticate with the workspace key: `Authorization: Bearer nk_…`;",
  "without one the answer is 401 with a JSON-RPC error and `WWW-Authenticate: Bearer resource_metadata=…` (RFC 9728).",
  "Tools are the actions of the integrations the workspace has connected (name = action slug); tools/call runs one exactly as POST /v1/actions/:slug/execute does",
  "(the run is recorded with source \"mcp\"). Pass an idempotency key as `_meta.idempotency_key` of tools/call, or the Idempotency-Key header.",
].join(" ");

/** Origin of the request as the caller reached it. */
const origin = (request: FastifyRequest) => `${request.protocol}://${request.host}`;

/** The RFC 9728 metadata URL of a resource path: the well-known prefix inserted before the path. */
const metadataUrl = (request: FastifyRequest, path: string) => `${origin(request)}/.well-known/oauth-protected-resource${path}`;

/** MCP over Streamable HTTP at /mcp (the workspace's connected actions) and /mcp/:toolset_id (one tool set). */
export const mcpRoutes: FastifyPluginAsyncTypebox<{ deps: AppDeps }> = async (app, { deps }) => {
  const { services } = deps;
  const tools = createMcpTools({ registry: deps.registry, connections: services.connections, executeAction: services.executeAction, toolsets: services.toolsets });
  const security = [{ apiKey: [] }];
  const tags = ["mcp"];

  const rpcError = (reply: FastifyReply, status: number, code: number, message: string) =>
    reply.status(status).type("application/json").send({ jsonrpc: "2.0", error: { code, message }, id: null });

  async function serve(request: FastifyRequest, reply: FastifyReply, toolsetId: string | null) {
    const path = toolsetId === null ? "/mcp" : `/mcp/${toolsetId}`;
    const token = bearerToken(request);
    const principal = token === null ? null : await services.apiKeys.authenticate(token);
    if (!principal) {
      reply.header("www-authenticate", `Bearer resource_metadata="${metadataUrl(request, path)}"${token === null ? "" : ', error="invalid_token"'}`);
      return rpcError(reply, 401, UNAUTHORIZED, token === null ? "Send a workspace API key as `Authorization: Bearer nk_…`." : "The API key is not valid (unknown, malformed or revoked).");
    }
    let scope;
    try {
      scope = await tools.scope(principal.workspaceId, toolsetId);
    } catch (error) {
      if (error instanceof AppError && error.code === "NOT_FOUND") return rpcError(reply, 404, NOT_FOUND, "No such tool set (or it belongs to another workspace).");
      throw error;
    }
    const header = request.headers["idempotency-key"];
    const server = buildMcpServer(tools, scope, { idempotencyKey: typeof header === "string" ? header : undefined });
    const transport = new StreamableHTTPServerTransport({ enableJsonResponse: true } as ConstructorParameters<typeof StreamableHTTPServerTransport>[0]);
    reply.raw.on("close", () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    reply.hijack();
    // No sessionIdGenerator: stateless mode (no Mcp-Session-Id). The reply's own headers (x-request-id) are set on the raw response before the transport writes its head.
    for (const [name, value] of Object.entries(reply.getHeaders())) if (value !== undefined) reply.raw.setHeader(name, value as string);
    await transport.handleRequest(request.raw, reply.raw, request.body);
  }

  const postSchema = (summary: string, params?: typeof ToolsetParams) => ({
    tags, security, summary, description: DESCRIPTION,
    ...(params ? { params } : {}),
    body: JsonRpcMessage,
    response: {
      200: Type.Unknown({ description: "The JSON-RPC response (initialize result, tools/list page, tools/call result, …)." }),
      202: Type.Null({ description: "A notification, accepted." }),
      401: JsonRpcError, 404: JsonRpcError,
    },
  });

  app.post("/mcp", { config: { auth: "public" }, schema: postSchema("MCP endpoint: every connected action as a tool") }, (request, reply) => serve(request, reply, null));
  app.post("/mcp/:toolset_id", { config: { auth: "public" }, schema: postSchema("MCP endpoint of one tool set", ToolsetParams) },
    (request, reply) => serve(request, reply, (request.params as { toolset_id: string }).toolset_id));

  // Stateless: no server-initiated stream (GET) and no session to end (DELETE).
  for (const url of ["/mcp", "/mcp/:toolset_id"]) {
    app.route({
      method: ["GET", "DELETE"], url, config: { auth: "public" },
      schema: { tags, summary: "Not served (stateless server)", hide: true },
      handler: (_request, reply) => reply.header("allow", "POST").status(405).send({ jsonrpc: "2.0", error: { code: -32000, message: "Method not allowed: this MCP server is stateless; POST JSON-RPC messages." }, id: null }),
    });
  }

  // RFC 9728 protected-resource metadata, for the MCP authorization spec's discovery: clients learn that the resource
  // takes a bearer token in the header. No authorization server is listed: the token is a workspace API key.
  const metadata = (request: FastifyRequest, path: string) => ({
    resource: `${origin(request)}${path}`,
    bearer_methods_supported: ["header"],
    resource_name: "Nagent Integrations MCP (workspace API key as Bearer token)",
    resource_documentation: `${origin(request)}/docs`,
  });
  const metaSchema = { tags, summary: "OAuth protected-resource metadata (RFC 9728) of the MCP endpoint", response: { 200: ProtectedResource } };
  app.get("/.well-known/oauth-protected-resource", { config: { auth: "public" }, schema: metaSchema }, async (request) => metadata(request, "/mcp"));
  app.get("/.well-known/oauth-protected-resource/mcp", { config: { auth: "public" }, schema: metaSchema }, async (request) => metadata(request, "/mcp"));
  app.get("/.well-known/oauth-protected-resource/mcp/:toolset_id", { config: { auth: "public" }, schema: { ...metaSchema, params: ToolsetParams } },
    async (request) => metadata(request, `/mcp/${request.params.toolset_id}`));
};
