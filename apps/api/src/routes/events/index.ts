import { Type } from "typebox";
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { AppDeps } from "../../deps";
import { workspaceOf } from "../../plugins/auth";
import { Cursor, IdParams, Limit, NullableTimestamp, Timestamp, Uuid, errorResponses, routeDocs } from "../../schemas/common";

const DeliveryStatus = Type.Union([Type.Literal("pending"), Type.Literal("succeeded"), Type.Literal("failed")]);
const EventFields = {
  id: Uuid,
  trigger: Type.String(),
  connection_id: Type.Union([Uuid, Type.Null()]),
  source: Type.String({ description: "callback, poll, test or platform." }),
  data: Type.Unknown({ description: "The event's payload, shaped as the trigger's payload schema." }),
  created_at: Timestamp,
};
const Attempt = Type.Object({
  number: Type.Integer(),
  started_at: Timestamp,
  finished_at: Timestamp,
  outcome: Type.String({ description: "succeeded, failed (non-2xx), gone (410) or error (network, timeout, egress policy)." }),
  response_status: Type.Union([Type.Integer(), Type.Null()]),
  latency_ms: Type.Integer(),
  response_excerpt: Type.Union([Type.String(), Type.Null()], { description: "The answer's first 1,024 bytes." }),
  error: Type.Union([Type.String(), Type.Null()]),
});
const Delivery = Type.Object({
  id: Uuid,
  subscription_id: Uuid,
  status: DeliveryStatus,
  attempts_count: Type.Integer(),
  next_attempt_at: NullableTimestamp,
  last_attempt_at: NullableTimestamp,
  succeeded_at: NullableTimestamp,
  attempts: Type.Array(Attempt, { description: "The latest 50 attempts, newest first." }),
}, { description: "The event to one subscription; its id is the webhook-id every attempt carries." });

/** The event log: every trigger event of the workspace, its deliveries and their attempts; redelivery. */
export const eventRoutes: FastifyPluginAsyncTypebox<{ deps: AppDeps }> = async (app, { deps }) => {
  const events = deps.services.triggerEvents;
  const doc = routeDocs("triggers");

  app.get("/v1/events", {
    schema: {
      ...doc("List trigger events", "Newest first. `subscription_id` and `status` keep events with a delivery to that subscription / in that status. Page with cursor = next_cursor."),
      querystring: Type.Object({
        trigger: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
        subscription_id: Type.Optional(Uuid),
        status: Type.Optional(DeliveryStatus),
        created_after: Type.Optional(Type.String({ format: "date-time", maxLength: 64 })),
        created_before: Type.Optional(Type.String({ format: "date-time", maxLength: 64 })),
        limit: Type.Optional(Limit),
        cursor: Type.Optional(Cursor),
      }, { additionalProperties: false }),
      response: { 200: Type.Object({ events: Type.Array(Type.Object(EventFields)), next_cursor: Type.Union([Type.String(), Type.Null()]) }), ...errorResponses() },
    },
  }, async (request) => events.list(workspaceOf(request), request.query));

  app.get("/v1/events/:id", {
    schema: {
      ...doc("Get an event with its deliveries"),
      params: IdParams,
      response: { 200: Type.Object({ event: Type.Object({ ...EventFields, deliveries: Type.Array(Delivery) }) }), ...errorResponses(404) },
    },
  }, async (request) => events.get(workspaceOf(request), request.params.id));

  app.post("/v1/events/:id/redeliver", {
    schema: {
      ...doc("Deliver an event again", "Sends the event again to every subscription it was delivered to (or only subscription_id): same webhook-id, a fresh retry schedule."),
      params: IdParams,
      body: Type.Object({ subscription_id: Type.Optional(Uuid) }, { additionalProperties: false }),
      response: { 202: Type.Object({ deliveries: Type.Integer() }), ...errorResponses(404) },
    },
    preValidation: async (request) => {
      request.body ??= {}; // no body: every subscription
    },
  }, async (request, reply) => reply.status(202).send(await events.redeliver(workspaceOf(request), request.params.id, request.body.subscription_id)));
};
