import { Type } from "typebox";
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { AppDeps } from "../../deps";
import { workspaceOf } from "../../plugins/auth";
import { registerDeleteRoute, registerGetByIdRoute } from "../by-id-routes";
import { IdParams, NullableTimestamp, Timestamp, Uuid, errorResponses, routeDocs } from "../../schemas/common";

const Slug = Type.String({ minLength: 1, maxLength: 64, pattern: "^[a-z][a-z0-9_]*$", description: "An integration slug, e.g. scale_ai." });
const ConnectionName = Type.String({ minLength: 1, maxLength: 100, pattern: "\\S" });
const BaseUrl = Type.String({ minLength: 1, maxLength: 2048, description: "The upstream to call instead of the integration's default (a proxy, a sandbox). http(s), no credentials; see the README's egress policy." });
const Credentials = Type.Record(Type.String({ maxLength: 64 }), Type.String({ maxLength: 4096 }), {
  maxProperties: 16,
  description: "The integration's credential fields (for Scale AI: {api_key, callback_auth_key?}, the callback auth key being the account's Live Callback Auth Key that Scale sends as scale-callback-auth). Checked against the upstream, stored only encrypted, never returned.",
});
const EventsMode = Type.Union([Type.Literal("callback"), Type.Literal("poll")], {
  description: "How trigger events arrive: callback (the upstream calls inbound_url) or poll (the platform lists what changed, for an account that cannot reach it).",
});

const Connection = Type.Object({
  id: Uuid,
  integration: Type.String(),
  name: Type.String(),
  is_default: Type.Boolean({ description: "Runs that name no connection use the workspace's default connection of the integration." }),
  status: Type.Union([Type.Literal("active"), Type.Literal("degraded"), Type.Literal("invalid")], {
    description: "degraded: 3 or more timeouts/5xx answers within a minute (runs still go through); invalid: the upstream rejected the credentials at a test, a run or a probe (runs fail fast with CONNECTION_INVALID). Both are re-tested by the health probe with backoff; a success makes the connection active. Every change is in GET /v1/connections/:id/events.",
  }),
  credential_hint: Type.String({ description: "The credential masked, e.g. live_…1a2b." }),
  base_url: Type.Union([Type.String(), Type.Null()]),
  created_at: Timestamp,
  updated_at: Timestamp,
  last_verified_at: NullableTimestamp,
  last_error: Type.Union([Type.String(), Type.Null()]),
  events: EventsMode,
  inbound_url: Type.Union([Type.String(), Type.Null()], { description: "Where the upstream sends callbacks (Scale AI: set it as the callback URL, or let execute add it to new tasks). Null for integrations without callbacks." }),
  callback_auth_hint: Type.Union([Type.String(), Type.Null()], { description: "The callback auth key, masked; null when none was given (callbacks are then refused with 401)." }),
  rate_limit: Type.Object({
    min_rps: Type.Union([Type.Number(), Type.Null()]),
    max_rps: Type.Union([Type.Number(), Type.Null()]),
  }, { description: "Bounds of the connection's adaptive pacing in requests/s (null: the deployment's). Equal bounds fix the rate." }),
  next_probe_at: Type.Union([Timestamp, Type.Null()], { description: "When the health probe re-tests this degraded or invalid connection next." }),
}, { title: "Connection" });

const Rps = Type.Union([Type.Number({ minimum: 0.01, maximum: 10_000 }), Type.Null()]);
const RateLimit = Type.Union([
  Type.Object({ min_rps: Type.Optional(Rps), max_rps: Type.Optional(Rps) }, { additionalProperties: false }),
  Type.Null(),
], { description: "Bounds of the adaptive pacing in requests/s: a floor (min_rps) and a cap (max_rps); equal bounds make a fixed rate; null gives both back to the deployment's defaults." });

const ConnectionEvent = Type.Object({
  id: Uuid,
  from: Type.String({ description: "active, degraded or invalid" }),
  to: Type.String({ description: "active, degraded or invalid" }),
  reason: Type.String(),
  created_at: Timestamp,
}, { title: "ConnectionEvent" });

const TestResult = Type.Object({
  successful: Type.Boolean(),
  error: Type.Union([Type.Object({ code: Type.String(), message: Type.String(), upstream_status: Type.Optional(Type.Integer()) }), Type.Null()]),
  latency_ms: Type.Integer(),
});

/** Connections: connect an integration once per workspace; the credentials never come back. */
export const connectionRoutes: FastifyPluginAsyncTypebox<{ deps: AppDeps }> = async (app, { deps }) => {
  const connections = deps.services.connections;
  const doc = routeDocs("connections");

  app.post("/v1/connections", {
    schema: {
      ...doc("Connect an integration", "Checks the credentials against the upstream (through base_url if given), then stores them encrypted. The first connection of an integration becomes the workspace's default."),
      body: Type.Object({ integration: Slug, name: Type.Optional(ConnectionName), credentials: Credentials, base_url: Type.Optional(BaseUrl), events: Type.Optional(EventsMode) }, { additionalProperties: false }),
      response: { 201: Type.Object({ connection: Connection }), ...errorResponses(404, 409, 422, 502, 504) },
    },
  }, async (request, reply) => {
    const connection = await connections.create(workspaceOf(request), request.body);
    return reply.status(201).send({ connection });
  });

  app.get("/v1/connections", {
    schema: {
      ...doc("List connections"),
      querystring: Type.Object({ integration: Type.Optional(Slug) }, { additionalProperties: false }),
      response: { 200: Type.Object({ connections: Type.Array(Connection) }), ...errorResponses() },
    },
  }, async (request) => ({ connections: await connections.list(workspaceOf(request), request.query) }));

  registerGetByIdRoute(app, "/v1/connections", doc("Get a connection"), { connection: Connection }, connections.get);

  app.patch("/v1/connections/:id", {
    schema: {
      ...doc("Rename, set as default, or replace credentials", "New credentials or a new base_url are checked against the upstream before they are stored; success makes the connection active again."),
      params: IdParams,
      body: Type.Object({
        name: Type.Optional(ConnectionName),
        is_default: Type.Optional(Type.Boolean()),
        credentials: Type.Optional(Credentials),
        base_url: Type.Optional(Type.Union([BaseUrl, Type.Null()])),
        events: Type.Optional(EventsMode),
        rate_limit: Type.Optional(RateLimit),
      }, { additionalProperties: false, minProperties: 1 }),
      response: { 200: Type.Object({ connection: Connection }), ...errorResponses(404, 409, 422, 502, 504) },
    },
  }, async (request) => ({ connection: await connections.update(workspaceOf(request), request.params.id, request.body) }));

  registerDeleteRoute(app, "/v1/connections", doc("Delete a connection"), connections.remove);

  app.post("/v1/connections/:id/test", {
    schema: {
      ...doc("Test a connection's credentials now", "A refusal by the upstream marks the connection invalid; success marks it active (each change recorded as an event)."),
      params: IdParams,
      response: { 200: Type.Object({ connection: Connection, test: TestResult }), ...errorResponses(404) },
    },
  }, async (request) => connections.test(workspaceOf(request), request.params.id));

  app.get("/v1/connections/:id/events", {
    schema: {
      ...doc("A connection's status changes", "Every transition between active, degraded and invalid, newest first, with its reason. Page with `cursor` (next_cursor)."),
      params: IdParams,
      querystring: Type.Object({
        limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
        cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
      }, { additionalProperties: false }),
      response: { 200: Type.Object({ events: Type.Array(ConnectionEvent), next_cursor: Type.Union([Type.String(), Type.Null()]) }), ...errorResponses(400, 404) },
    },
  }, async (request) => connections.events(workspaceOf(request), request.params.id, request.query));
};
