import { Type } from "typebox";
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { AppDeps } from "../../app";
import { workspaceOf } from "../../plugins/auth";
import { IdParams, errorResponses } from "../../schemas/common";
import { Run } from "../../schemas/runs";

/** Run history for operators and agents: one run with its attempts; cancel a run that has not started. */
export const runRoutes: FastifyPluginAsyncTypebox<{ deps: AppDeps }> = async (app, { deps }) => {
  const runs = deps.services.runs;
  const security = [{ apiKey: [] }];

  app.get("/v1/runs/:id", {
    schema: { tags: ["runs"], security, summary: "Get a run with its attempts", params: IdParams, response: { 200: Type.Object({ run: Run }), ...errorResponses(404) } },
  }, async (request) => ({ run: await runs.get(workspaceOf(request), request.params.id) }));

  app.post("/v1/runs/:id/cancel", {
    schema: {
      tags: ["runs"], security, summary: "Cancel a queued run",
      description: "Cancels a run with no attempt in flight (queued, including one waiting for a retry). 409 RUN_NOT_CANCELABLE otherwise.",
      params: IdParams,
      response: { 200: Type.Object({ run: Run }), ...errorResponses(404, 409) },
    },
  }, async (request) => ({ run: await runs.cancel(workspaceOf(request), request.params.id) }));
};
