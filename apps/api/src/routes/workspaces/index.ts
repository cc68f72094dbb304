import { Type } from "typebox";
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { AppDeps } from "../../deps";
import { Cursor, IdParams, Limit, Name, Timestamp, Uuid, errorResponses, routeDocs } from "../../schemas/common";
import { workspaceOf } from "../../plugins/auth";

export const WorkspaceSchema = Type.Object({ id: Uuid, name: Type.String(), created_at: Timestamp });

/** The query of a workspace listing (GET /v1/workspaces, and the console's workspace picker). */
export const WorkspaceListQuery = Type.Object({
  q: Type.Optional(Type.String({ maxLength: 100, description: "Keep the workspaces whose name contains this (case-insensitive)." })),
  limit: Type.Optional(Limit),
  cursor: Type.Optional(Cursor),
}, { additionalProperties: false });

export const WorkspacePageSchema = Type.Object({
  workspaces: Type.Array(WorkspaceSchema),
  next_cursor: Type.Union([Type.String(), Type.Null()], { description: "Pass it as `cursor` for the next page; null on the last." }),
});

/** Admin routes: creating a workspace returns its first API key, once. */
export const workspaceRoutes: FastifyPluginAsyncTypebox<{ deps: AppDeps }> = async (app, { deps }) => {
  const adminDoc = routeDocs("workspaces", "adminToken");
  const workspaceDoc = routeDocs("workspaces");

  app.get("/v1/workspaces", {
    config: { auth: "admin" },
    schema: {
      ...adminDoc("List workspaces (admin)", "The workspaces that exist (deleted ones are left out), oldest first. Follow `next_cursor` (null on the last page) with the same `q`."),
      querystring: WorkspaceListQuery,
      response: { 200: WorkspacePageSchema, ...errorResponses() },
    },
  }, async (request) => {
    const { q, limit, cursor } = request.query;
    return deps.services.workspaces.list({ q, limit: limit ?? 50, cursor });
  });

  app.post("/v1/workspaces", {
    config: { auth: "admin" },
    schema: {
      ...adminDoc("Create a workspace (admin)", "Creates a workspace and its first API key. The key is shown in this response only; store it."),
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
      ...adminDoc("Delete a workspace (admin)", "Its API keys stop working at once and its data keys are destroyed (crypto-shredding): its stored credentials can never be opened again."),
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
      ...adminDoc("Rotate a workspace's data key (admin)", "Creates a new data key version, re-encrypts every secret of the workspace sealed with its data keys under it (connections' credentials, " +
        "trigger subscriptions' signing secrets including a previous one in its grace period, queued and running runs' sensitive input) and destroys the old version. " +
        "Connections, deliveries and runs keep working throughout. Resumable: after a 409 ROTATION_CONFLICT run it again."),
      params: IdParams,
      response: {
        200: Type.Object({
          version: Type.Integer({ description: "The data key version every secret of the workspace is now sealed with." }),
          reencrypted: Type.Integer({ description: "Sealed values re-encrypted by this call, all kinds together." }),
          reencrypted_by_kind: Type.Object({
            connection: Type.Integer(),
            subscription_secret: Type.Integer(),
            subscription_previous_secret: Type.Integer(),
            run_input: Type.Integer(),
          }, { description: "reencrypted per kind of sealed value." }),
          unreadable: Type.Array(Uuid, { description: "Rows (connections, subscriptions, runs) with a sealed value that could not be opened (left as it was)." }),
        }),
        ...errorResponses(404, 409),
      },
    },
  }, async (request) => {
    const result = await deps.services.workspaces.rotateDataKey(request.params.id);
    request.log.info({ workspaceId: request.params.id, version: result.version, reencrypted: result.reencrypted }, "workspace data key rotated");
    return result;
  });

  const Settings = Type.Object({
    output_check: Type.Enum(["record", "strict"], {
      description: "What an upstream answer that does not match the action's output_schema does to the run: record (default) records it in the run's " +
        "output_check and counts it (nagent_output_checks_total), the run succeeds; strict ends the run successful:false with OUTPUT_SCHEMA_MISMATCH, data kept for inspection.",
    }),
  }, { title: "WorkspaceSettings" });

  app.get("/v1/workspace/settings", {
    schema: {
      ...workspaceDoc("The calling workspace's settings"),
      response: { 200: Type.Object({ settings: Settings }), ...errorResponses(404) },
    },
  }, async (request) => ({ settings: await deps.services.workspaces.settings(workspaceOf(request)) }));

  app.patch("/v1/workspace/settings", {
    schema: {
      ...workspaceDoc("Change the calling workspace's settings", "Fields left out stay as they are. Takes effect for runs whose attempt starts afterwards."),
      body: Type.Partial(Settings, { additionalProperties: false }),
      response: { 200: Type.Object({ settings: Settings }), ...errorResponses(404) },
    },
  }, async (request) => {
    const settings = await deps.services.workspaces.updateSettings(workspaceOf(request), request.body);
    request.log.info({ workspaceId: workspaceOf(request), output_check: settings.output_check }, "workspace settings changed");
    return { settings };
  });
};
