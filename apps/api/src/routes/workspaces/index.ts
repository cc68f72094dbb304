import { Type } from "typebox";
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { AppDeps } from "../../app";
import { IdParams, Name, Timestamp, Uuid, errorResponses } from "../../schemas/common";

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

  app.delete("/v1/workspaces/:id", {
    config: { auth: "admin" },
    schema: {
      tags: ["workspaces"],
      summary: "Delete a workspace (admin)",
      description: "Its API keys stop working at once and its data keys are destroyed (crypto-shredding): its stored credentials can never be opened again.",
      security: [{ adminToken: [] }],
      params: IdParams,
      response: { 204: Type.Null(), ...errorResponses(404) },
    },
  }, async (request, reply) => {
    await deps.services.workspaces.remove(request.params.id);
    request.log.info({ workspaceId: request.params.id }, "workspace deleted and its keys destroyed");
    return reply.status(204).send(null);
  });

  app.post("/v1/workspaces/:id/rotate-key", {
    config: { auth: "admin" },
    schema: {
      tags: ["workspaces"],
      summary: "Rotate a workspace's data key (admin)",
      description: "Creates a new data key version, re-encrypts every connection of the workspace under it and destroys the old version. Connections keep working throughout.",
      security: [{ adminToken: [] }],
      params: IdParams,
      response: {
        200: Type.Object({
          version: Type.Integer({ description: "The data key version every secret of the workspace is now sealed with." }),
          reencrypted: Type.Integer(),
          unreadable: Type.Array(Uuid, { description: "Connections whose ciphertext could not be opened (left as they were)." }),
        }),
        ...errorResponses(404, 409),
      },
    },
  }, async (request) => {
    const result = await deps.services.workspaces.rotateDataKey(request.params.id);
    request.log.info({ workspaceId: request.params.id, version: result.version, reencrypted: result.reencrypted }, "workspace data key rotated");
    return result;
  });
};
