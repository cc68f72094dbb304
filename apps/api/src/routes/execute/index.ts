import { Type } from "typebox";
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { AppDeps } from "../../deps";
import { workspaceOf } from "../../plugins/auth";
import { Uuid, errorResponses } from "../../schemas/common";
import { Envelope, RunStatus } from "../../schemas/runs";

/**
 * Bodies of execute calls may carry a file (SCALE_AI_UPLOAD_FILE, base64): this route accepts up to 12 MiB, other
 * routes 1 MiB. Larger files go through SCALE_AI_IMPORT_FILE (a URL) instead.
 */
export const EXECUTE_BODY_LIMIT_BYTES = 12 * 1024 * 1024;

const ActionSlug = Type.String({ minLength: 3, maxLength: 128, pattern: "^[A-Z][A-Z0-9_]+$" });
const IdempotencyKey = Type.String({ minLength: 1, maxLength: 255, pattern: "^[\\x21-\\x7e]+$", description: "Same key + same body within 24 h returns the same run; a different body answers 409 IDEMPOTENCY_KEY_REUSED." });

export const executeRoutes: FastifyPluginAsyncTypebox<{ deps: AppDeps }> = async (app, { deps }) => {
  app.post("/v1/actions/:slug/execute", {
    bodyLimit: EXECUTE_BODY_LIMIT_BYTES,
    schema: {
      tags: ["execution"], security: [{ apiKey: [] }],
      summary: "Execute an action",
      description: [
        "Validates `input` against the action's current input schema (400 VALIDATION_FAILED with every problem, before anything is stored), records a run and queues it.",
        "`mode: \"sync\"` (default) waits for the result (bounded, 30 s by default) and answers 200 with the envelope; past the bound, or with `mode: \"async\"`, it answers 202 with the run id (follow it at GET /v1/runs/:id).",
        "Without `connection_id` the workspace's default connection of the action's integration is used.",
      ].join("\n\n"),
      params: Type.Object({ slug: ActionSlug }, { additionalProperties: false }),
      headers: Type.Object({ "idempotency-key": Type.Optional(IdempotencyKey) }),
      body: Type.Object({
        connection_id: Type.Optional(Uuid),
        input: Type.Record(Type.String({ maxLength: 128 }), Type.Unknown(), { maxProperties: 200, description: "The action's input; see GET /v1/actions/:slug for its schema." }),
        mode: Type.Optional(Type.Union([Type.Literal("sync"), Type.Literal("async")])),
      }, { additionalProperties: false }),
      response: {
        200: Type.Object({ run_id: Uuid, data: Envelope.properties.data, error: Envelope.properties.error, successful: Type.Boolean() }),
        202: Type.Object({ run_id: Uuid, status: RunStatus }),
        ...errorResponses(404, 409, 413, 503),
      },
    },
  }, async (request, reply) => {
    const result = await deps.services.executeAction(workspaceOf(request), request.params.slug, request.body, request.headers["idempotency-key"]);
    if (result.replayed) reply.header("idempotency-replayed", "true");
    reply.header("x-run-id", result.runId);
    if (result.kind === "finished") return reply.status(200).send({ run_id: result.runId, ...result.envelope });
    return reply.status(202).send({ run_id: result.runId, status: result.status as "queued" | "running" });
  });
};
