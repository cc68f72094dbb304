import { Type } from "typebox";
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { AppDeps } from "../../deps";
import { workspaceOf } from "../../plugins/auth";
import { registerDeleteRoute, registerGetByIdRoute } from "../by-id-routes";
import { IdParams, NullableTimestamp, Timestamp, Uuid, errorResponses, routeDocs } from "../../schemas/common";
import { DEFAULT_ROTATION_GRACE_S, MAX_ROTATION_GRACE_S } from "../../services/trigger-subscriptions";

const TriggerSlug = Type.String({ minLength: 3, maxLength: 128, pattern: "^[A-Z][A-Z0-9_]{2,127}$", description: "A trigger's slug (GET /v1/triggers), e.g. SCALE_AI_TASK_COMPLETED." });
const Filter = Type.Record(Type.String({ minLength: 1, maxLength: 64 }), Type.Unknown(), {
  maxProperties: 20,
  description: "Filter name → value, from the trigger's `filters` (each value checked against its schema); an event is delivered when every filter matches.",
});
const TargetUrl = Type.String({ minLength: 1, maxLength: 2048, description: "Where deliveries are POSTed: http(s), subject to the egress policy (README)." });

const Subscription = Type.Object({
  id: Uuid,
  trigger: Type.String(),
  connection_id: Type.Union([Uuid, Type.Null()], { description: "Only this connection's events; null: every connection of the trigger's integration." }),
  filter: Type.Record(Type.String(), Type.Unknown()),
  target: Type.Object({ url: Type.String() }),
  status: Type.Union([Type.Literal("active"), Type.Literal("paused"), Type.Literal("disabled")], { description: "disabled: by the platform after a 410 Gone or days of failures (see disabled_reason); resume to re-enable." }),
  disabled_reason: Type.Union([Type.String(), Type.Null()]),
  secret_hint: Type.String({ description: "The signing secret, masked (whsec_…abcd)." }),
  previous_secret_expires_at: Type.Union([Timestamp, Type.Null()], { description: "During a rotation's grace period, until when the old secret still signs too." }),
  last_success_at: NullableTimestamp,
  failing_since: NullableTimestamp,
  created_at: Timestamp,
  updated_at: Timestamp,
}, { title: "TriggerSubscription" });

const WithSecret = Type.Object({
  subscription: Subscription,
  secret: Type.String({ description: "The signing secret (whsec_…), shown this once: verify deliveries with it (Standard Webhooks)." }),
});

/** Trigger subscriptions: get a trigger's events delivered, signed, at a URL. */
export const triggerSubscriptionRoutes: FastifyPluginAsyncTypebox<{ deps: AppDeps }> = async (app, { deps }) => {
  const subscriptions = deps.services.triggerSubscriptions;
  const doc = routeDocs("triggers");

  app.post("/v1/trigger-subscriptions", {
    schema: {
      ...doc("Subscribe to a trigger", "Events of the trigger (matching `filter`, and from `connection_id` when given) are POSTed to target.url per the Standard Webhooks specification " +
        "(webhook-id, webhook-timestamp, webhook-signature), retried for about three days. Answers the signing secret once."),
      body: Type.Object({
        trigger: TriggerSlug,
        connection_id: Type.Optional(Uuid),
        filter: Type.Optional(Filter),
        target: Type.Object({ url: TargetUrl }, { additionalProperties: false }),
      }, { additionalProperties: false }),
      response: { 201: WithSecret, ...errorResponses(404, 409) },
    },
  }, async (request, reply) => reply.status(201).send(await subscriptions.create(workspaceOf(request), request.body)));

  app.get("/v1/trigger-subscriptions", {
    schema: {
      ...doc("List subscriptions"),
      querystring: Type.Object({
        trigger: Type.Optional(TriggerSlug),
        status: Type.Optional(Type.Union([Type.Literal("active"), Type.Literal("paused"), Type.Literal("disabled")])),
      }, { additionalProperties: false }),
      response: { 200: Type.Object({ subscriptions: Type.Array(Subscription) }), ...errorResponses() },
    },
  }, async (request) => ({ subscriptions: await subscriptions.list(workspaceOf(request), request.query) }));

  registerGetByIdRoute(app, "/v1/trigger-subscriptions", doc("Get a subscription"), { subscription: Subscription }, subscriptions.get);

  app.post("/v1/trigger-subscriptions/:id/pause", {
    schema: { ...doc("Pause deliveries", "Events keep being recorded; deliveries wait until resume."), params: IdParams, response: { 200: Type.Object({ subscription: Subscription }), ...errorResponses(404) } },
  }, async (request) => ({ subscription: await subscriptions.pause(workspaceOf(request), request.params.id) }));

  app.post("/v1/trigger-subscriptions/:id/resume", {
    schema: { ...doc("Resume (or re-enable) deliveries", "Active again, also after the platform disabled it; waiting deliveries are sent now."), params: IdParams, response: { 200: Type.Object({ subscription: Subscription }), ...errorResponses(404) } },
  }, async (request) => ({ subscription: await subscriptions.resume(workspaceOf(request), request.params.id) }));

  app.post("/v1/trigger-subscriptions/:id/rotate-secret", {
    schema: {
      ...doc("Rotate the signing secret", `A new secret, answered once. For grace_period_seconds (default ${DEFAULT_ROTATION_GRACE_S}, 0 ends the old one now) deliveries carry both signatures, so receivers can switch without losing any.`),
      params: IdParams,
      body: Type.Object({ grace_period_seconds: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_ROTATION_GRACE_S })) }, { additionalProperties: false }),
      response: { 200: WithSecret, ...errorResponses(404) },
    },
    preValidation: async (request) => {
      request.body ??= {}; // no body: the defaults
    },
  }, async (request) => subscriptions.rotateSecret(workspaceOf(request), request.params.id, request.body.grace_period_seconds ?? DEFAULT_ROTATION_GRACE_S));

  registerDeleteRoute(app, "/v1/trigger-subscriptions", doc("Delete a subscription"), subscriptions.remove);

  app.post("/v1/trigger-subscriptions/:id/test", {
    schema: {
      ...doc("Send a test event", "Delivers the trigger's first example to this subscription only, as an event with source `test` (listed in GET /v1/events)."),
      params: IdParams,
      response: { 202: Type.Object({ event_id: Uuid, delivery_id: Uuid }), ...errorResponses(404, 409) },
    },
  }, async (request, reply) => reply.status(202).send(await subscriptions.sendTest(workspaceOf(request), request.params.id)));
};
