import { Type } from "typebox";
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { AppDeps } from "../../app";
import { Name, Timestamp, Uuid, errorResponses } from "../../schemas/common";

export const WorkspaceSchema = Type.Object({ id: Uuid, name: Type.String(), created_at: Timestamp });

/** Admin routes: creating a workspace returns its first API key, once. */
export const workspaceRoutes: FastifyPluginAsyncTypebox<{ deps: AppDeps }> = async (app, { deps }) => {
  app.post("/v1/workspaces", {
    config: { auth: "admin" },
    schema: {
      tags: ["workspaces"],
      summary: "Create a workspace (admin)",
      description: "Creates a workspace and its first API key. The key is shown in this response only; store it.",
      security: [{ adminToken: [] }],
      body: Type.Object({ name: Name }, { additionalProperties: false }),
      response: {
        201: Type.Object({ workspace: WorkspaceSchema, api_key: Type.String({ description: "The workspace's first API key (nk_…), shown once." }) }),
        ...errorResponses(),
      },
    },
  }, async (request, reply) => {
    const created = await deps.services.workspaces.create(request.body.name.trim());
    request.log.info({ workspaceId: created.workspace.id }, "workspace created");
    return reply.status(201).send({ workspace: created.workspace, api_key: created.apiKey });
  });
};
