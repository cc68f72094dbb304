import { Type } from "typebox";
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { AppDeps } from "../../deps";
import { workspaceOf } from "../../plugins/auth";
import { IdParams, Name, NullableTimestamp, Timestamp, Uuid, errorResponses } from "../../schemas/common";

export const ApiKeySchema = Type.Object(
  {
    id: Uuid,
    name: Type.String(),
    prefix: Type.String({ description: "The key's first characters (nk_…), enough to recognise it; not a secret." }),
    created_at: Timestamp,
    last_used_at: NullableTimestamp,
    revoked_at: NullableTimestamp,
  },
  { title: "ApiKey" },
);

/** A workspace manages its own API keys. Secrets are shown once, at creation, and stored only hashed. */
export const apiKeyRoutes: FastifyPluginAsyncTypebox<{ deps: AppDeps }> = async (app, { deps }) => {
  const keys = deps.services.apiKeys;
  const security = [{ apiKey: [] }];

  app.post("/v1/api-keys", {
    schema: {
      tags: ["api-keys"], summary: "Create an API key", security,
      body: Type.Object({ name: Name }, { additionalProperties: false }),
      response: { 201: Type.Object({ api_key: ApiKeySchema, key: Type.String({ description: "The new key (nk_…), shown once." }) }), ...errorResponses(409) },
    },
  }, async (request, reply) => {
    const created = await keys.create(workspaceOf(request), request.body.name.trim());
    return reply.status(201).send({ api_key: created.view, key: created.key });
  });

  app.get("/v1/api-keys", {
    schema: {
      tags: ["api-keys"], summary: "List the workspace's API keys", security,
      response: { 200: Type.Object({ api_keys: Type.Array(ApiKeySchema) }), ...errorResponses() },
    },
  }, async (request) => ({ api_keys: await keys.list(workspaceOf(request)) }));

  app.delete("/v1/api-keys/:id", {
    schema: {
      tags: ["api-keys"], summary: "Revoke an API key", description: "The key stops working at once. The last active key cannot be revoked.", security,
      params: IdParams,
      response: { 200: Type.Object({ api_key: ApiKeySchema }), ...errorResponses(404, 409) },
    },
  }, async (request) => ({ api_key: await keys.revoke(workspaceOf(request), request.params.id) }));
};
