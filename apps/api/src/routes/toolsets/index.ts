import { Type } from "typebox";
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { FastifyRequest } from "fastify";
import type { AppDeps } from "../../deps";
import { workspaceOf } from "../../plugins/auth";
import { registerDeleteRoute } from "../by-id-routes";
import { IdParams, Timestamp, Uuid, errorResponses, routeDocs } from "../../schemas/common";
import type { ToolsetView } from "../../services/toolsets";

const ToolsetName = Type.String({ minLength: 1, maxLength: 100, pattern: "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$", description: "A name people read, unique in the workspace." });
const Slugs = Type.Array(Type.String({ minLength: 1, maxLength: 128, pattern: "^[A-Z][A-Z0-9_]*$" }), {
  maxItems: 200, description: "Action slugs served by this tool set (united with `groups`). Neither: every action of the connected integrations.",
});
const Groups = Type.Array(Type.String({ minLength: 1, maxLength: 64, pattern: "^[a-z][a-z0-9_]*$" }), { maxItems: 50, description: "Action groups (e.g. tasks, batches) whose actions are served." });
const Mode = Type.Enum(["all", "search"], { description: "all: one MCP tool per action. search: two meta-tools, search_tools and call_tool." });
const ConnectionId = Type.Union([Uuid, Type.Null()], { description: "Pin every call to this connection (else the workspace's default connection of each integration)." });

const Toolset = Type.Object({
  id: Uuid,
  name: Type.String(),
  actions: Type.Array(Type.String()),
  groups: Type.Array(Type.String()),
  connection_id: Type.Union([Uuid, Type.Null()]),
  mode: Mode,
  mcp_url: Type.String({ description: "The MCP endpoint (Streamable HTTP) serving this tool set; authenticate with the workspace key." }),
  created_at: Timestamp,
  updated_at: Timestamp,
}, { title: "Toolset" });

const CreateBody = Type.Object({
  name: ToolsetName, actions: Type.Optional(Slugs), groups: Type.Optional(Groups), connection_id: Type.Optional(ConnectionId), mode: Type.Optional(Mode),
}, { additionalProperties: false });
const PatchBody = Type.Object({
  name: Type.Optional(ToolsetName), actions: Type.Optional(Slugs), groups: Type.Optional(Groups), connection_id: Type.Optional(ConnectionId), mode: Type.Optional(Mode),
}, { additionalProperties: false, minProperties: 1 });

/** The URL of a tool set's MCP endpoint, on the host the caller reached. */
export function mcpUrl(request: FastifyRequest, id: string | null): string {
  return `${request.protocol}://${request.host}/mcp${id === null ? "" : `/${id}`}`;
}

/** Tool sets: named selections of actions, each served at its own MCP URL (see routes/mcp). */
export const toolsetRoutes: FastifyPluginAsyncTypebox<{ deps: AppDeps }> = async (app, { deps }) => {
  const toolsets = deps.services.toolsets;
  const doc = routeDocs("toolsets");
  const view = (request: FastifyRequest, t: ToolsetView) => ({ ...t, mcp_url: mcpUrl(request, t.id) });

  app.post("/v1/toolsets", {
    schema: {
      ...doc("Create a tool set", "Unknown action slugs or groups answer 400 with each one's JSON pointer; a connection of another workspace 404. 409 NAME_TAKEN for a name in use."),
      body: CreateBody,
      response: { 201: Type.Object({ toolset: Toolset }), ...errorResponses(404, 409) },
    },
  }, async (request, reply) => reply.status(201).send({ toolset: view(request, await toolsets.create(workspaceOf(request), request.body)) }));

  app.get("/v1/toolsets", {
    schema: { ...doc("List tool sets"), response: { 200: Type.Object({ toolsets: Type.Array(Toolset) }), ...errorResponses() } },
  }, async (request) => ({ toolsets: (await toolsets.list(workspaceOf(request))).map((t) => view(request, t)) }));

  app.get("/v1/toolsets/:id", {
    schema: { ...doc("Get a tool set"), params: IdParams, response: { 200: Type.Object({ toolset: Toolset }), ...errorResponses(404) } },
  }, async (request) => ({ toolset: view(request, await toolsets.get(workspaceOf(request), request.params.id)) }));

  app.patch("/v1/toolsets/:id", {
    schema: {
      ...doc("Update a tool set", "Given fields replace the stored ones (arrays whole). Agents connected to its MCP URL see the change on their next request."),
      params: IdParams, body: PatchBody, response: { 200: Type.Object({ toolset: Toolset }), ...errorResponses(404, 409) },
    },
  }, async (request) => ({ toolset: view(request, await toolsets.update(workspaceOf(request), request.params.id, request.body)) }));

  registerDeleteRoute(app, "/v1/toolsets", doc("Delete a tool set", "Its MCP URL answers 404 afterwards; its runs stay in history."), toolsets.remove);
};
