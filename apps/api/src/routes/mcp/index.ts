import { Type } from "typebox";
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { FastifyReply, FastifyRequest } from "fastify";
import { Readable } from "node:stream";
import type { ReadableStream as NodeReadableStream } from "node:stream/web";
import { createMcpHandler, isLegacyRequest, WebStandardStreamableHTTPServerTransport, type AuthInfo } from "@modelcontextprotocol/server";
import { AppError } from "@nagent/errors";
import type { AppDeps } from "../../deps";
import { bearerToken } from "../../plugins/bearer-token";
import { Uuid } from "../../schemas/common";
import { createMcpTools, type ToolScope } from "../../services/mcp-tools";
import { buildMcpServer } from "./server";

/** What the route hands the per-request server factory, through `AuthInfo.extra` (the SDK passes it through untouched). */
interface RequestState {
  readonly scope: ToolScope;
  readonly idempotencyKey: string | undefined;
}

/** JSON-RPC error codes of the MCP error shape (the SDK's own are for protocol errors; these are the transport's). */
const UNAUTHORIZED = -32001;
const NOT_FOUND = -32002;

const JsonRpcError = Type.Object({
  jsonrpc: Type.Literal("2.0"),
  error: Type.Object({ code: Type.Integer(), message: Type.String() }),
  id: Type.Null(),
}, { title: "McpError" });
const REJECTION = "A request the protocol layer refused before any tool ran, as a JSON-RPC error echoing the request id: -32022 for an unsupported protocol version (`data.supported` lists the served ones), -32602 for a malformed envelope, -32020 for a header/body mismatch.";
const JsonRpcMessage = Type.Object({}, {
  additionalProperties: true, maxProperties: 8, title: "JsonRpcRequest",
  description: "A JSON-RPC 2.0 request or notification of the Model Context Protocol (2025 era: initialize, tools/list, tools/call, …; 2026-07-28: server/discover, tools/list, tools/call with the per-request `_meta` envelope).",
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
  "Both protocol generations on the same URL (@modelcontextprotocol/server 2.4): 2026-07-28 (no initialize; `server/discover`; every request carries",
  "its version and client capabilities in `params._meta` and the MCP-Protocol-Version / Mcp-Method headers) and 2024-11-05 … 2025-11-25 (the initialize handshake).",
  "An unsupported version is answered 400 with JSON-RPC error -32022 listing the supported ones. Authenticate with the workspace key: `Authorization: Bearer nk_…`;",
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

  /** The scope the per-request server serves, as the route verified it. */
  const stateOf = (authInfo: AuthInfo | undefined): RequestState => {
    const state = authInfo?.extra?.["nagent"] as RequestState | undefined;
    if (state === undefined) throw new Error("MCP request reached the server factory without its verified scope");
    return state;
  };

  // 2026-07-28 traffic (per-request `_meta` envelope, server/discover): the SDK's per-request handler, which builds a
  // server per request from this factory and answers a version it does not serve with -32022. `legacy: "reject"`:
  // 2025-era traffic never reaches it (the route sends that to `serveLegacy`, below), so this answers modern only.
  const modern = createMcpHandler(({ authInfo }) => {
    const state = stateOf(authInfo);
    return buildMcpServer(tools, state.scope, state);
  }, {
    legacy: "reject",
    onerror: (error) => app.log.debug({ err: { message: error.message } }, "mcp request rejected"),
  });
  app.addHook("onClose", async () => modern.close());

  // 2025-era traffic (initialize, then requests without the envelope): a fresh server per request over the SDK's
  // stateless Streamable HTTP transport, in JSON-response mode (createMcpHandler's own stateless fallback would
  // answer every request as an SSE stream; one JSON message per POST is what this endpoint has always promised).
  async function serveLegacy(request: Request, body: unknown, authInfo: AuthInfo): Promise<Response> {
    const state = stateOf(authInfo);
    const server = buildMcpServer(tools, state.scope, state);
    const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    await server.connect(transport);
    try {
      return await transport.handleRequest(request, { authInfo, parsedBody: body });
    } finally {
      void transport.close();
      void server.close();
    }
  }

  /** The fastify request as the web-standard Request the SDK's handlers take (the body re-serialized from the parsed one). */
  function webRequest(request: FastifyRequest, signal: AbortSignal): Request {
    const headers = new Headers();
    for (const [name, value] of Object.entries(request.headers)) {
      if (value === undefined || name === "content-length" || name === "transfer-encoding") continue;
      for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
    }
    return new Request(`${origin(request)}${request.url}`, { method: "POST", headers, body: JSON.stringify(request.body ?? null), signal });
  }

  async function send(reply: FastifyReply, response: Response) {
    reply.status(response.status);
    response.headers.forEach((value, name) => {
      if (name !== "content-length" && name !== "transfer-encoding") reply.header(name, value);
    });
    if (response.body === null) return reply.send();
    if ((response.headers.get("content-type") ?? "").startsWith("text/event-stream")) {
      return reply.send(Readable.fromWeb(response.body as NodeReadableStream<Uint8Array>));
    }
    return reply.send(Buffer.from(await response.arrayBuffer()));
  }

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
    const state: RequestState = { scope, idempotencyKey: typeof header === "string" ? header : undefined };
    // Authentication is done above (a workspace API key, checked against the database on every request), so the SDK's
    // bearer helpers are not used: their verifier contract wants an expiry, and these keys have none until revoked.
    // The AuthInfo below only carries the verified scope to the server factory; the key itself is not in it.
    const authInfo: AuthInfo = {
      token: `workspace-api-key:${principal.workspaceId}`, clientId: principal.workspaceId, scopes: [],
      resourceMetadataUrl: metadataUrl(request, path), extra: { nagent: state },
    };
    const aborted = new AbortController();
    reply.raw.on("close", () => {
      if (!reply.raw.writableFinished) aborted.abort();
    });
    const web = webRequest(request, aborted.signal);
    const response = await isLegacyRequest(web, request.body)
      ? await serveLegacy(web, request.body, authInfo)
      : await modern.fetch(web, { authInfo, parsedBody: request.body });
    return send(reply, response);
  }

  const postSchema = (summary: string, params?: typeof ToolsetParams) => ({
    tags, security, summary, description: DESCRIPTION,
    ...(params ? { params } : {}),
    body: JsonRpcMessage,
    response: {
      200: Type.Unknown({ description: "The JSON-RPC response (initialize result, tools/list page, tools/call result, …)." }),
      202: Type.Null({ description: "A notification, accepted." }),
      400: Type.Unknown({ description: `${REJECTION} A body or path this route's schema refuses answers the API's error envelope (VALIDATION_FAILED).` }),
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
