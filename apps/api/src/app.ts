import Fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { randomUUID } from "node:crypto";
import { AppError } from "@nagent/errors";
import { LazyChildLogger, type Logger } from "@nagent/logger";
import { registerErrorHandling, renderClientError, renderFrameworkError } from "./plugins/errors";
import { registerInputRules } from "./plugins/input-rules";
import { registerOpenApi } from "./plugins/openapi";
import { registerAuth } from "./plugins/auth";
import { registerMetrics } from "./plugins/metrics/index";
import { registerQueueDashboard } from "./plugins/queue-dashboard";
import { ErrorBody } from "./schemas/common";
import type { AppDeps } from "./deps";
import { healthRoutes } from "./routes/health/index";
import { workspaceRoutes } from "./routes/workspaces/index";
import { apiKeyRoutes } from "./routes/api-keys/index";
import { connectionRoutes } from "./routes/connections/index";
import { executeRoutes } from "./routes/execute/index";
import { runRoutes } from "./routes/runs/index";
import { integrationRoutes } from "./routes/integrations/index";
import { actionRoutes } from "./routes/actions/index";
import { addActionSchemas } from "./routes/actions/openapi-components";
import { flowRoutes } from "./routes/flows/index";
import { triggerRoutes } from "./routes/triggers/index";
import { addTriggerSchemas } from "./routes/triggers/openapi-components";
import { runEventRoutes } from "./routes/run-events/index";
import { toolsetRoutes } from "./routes/toolsets/index";
import { mcpRoutes } from "./routes/mcp/index";
import { consoleRoutes } from "./routes/console/index";
import { createConsoleSession } from "./plugins/console-session";
import { triggerSubscriptionRoutes } from "./routes/trigger-subscriptions/index";
import { eventRoutes } from "./routes/events/index";
import { inboundRoutes } from "./routes/inbound/index";

// Re-exported for callers outside the app (test support, the SDK's OpenAPI script); routes import ./deps.
export type { AppDeps } from "./deps";

export interface BuildOptions {
  /** The process's logger (pino); tests pass a capturing one or none. */
  readonly logger?: FastifyBaseLogger;
}

/** Request bodies above this size answer 413. */
export const BODY_LIMIT_BYTES = 1024 * 1024;

const REQUEST_ID = /^[A-Za-z0-9._:-]{8,128}$/;

/** The API as a Fastify instance, ready for `listen()` or `inject()`. */
export async function buildApp(deps: AppDeps, options: BuildOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    ...(options.logger ? { loggerInstance: options.logger } : { logger: false }),
    // request.log is made when something logs at an enabled level: pino's child() redacts its bindings at once
    // (~9 µs a request). The cast: pino's LogFn overloads, which the class implements with one rest signature.
    childLoggerFactory: (logger, bindings, childOptions) => new LazyChildLogger(logger as Logger, bindings, childOptions) as unknown as FastifyBaseLogger,
    bodyLimit: BODY_LIMIT_BYTES,
    // Accept a caller's X-Request-Id when it is a sane token (so ids follow a request across services), else mint one.
    genReqId: (req) => {
      const given = req.headers["x-request-id"];
      return typeof given === "string" && REQUEST_ID.test(given) ? given : randomUUID();
    },
    return503OnClosing: true,
    // Node answers a missing Host header with a bare 400 of its own; the onRequest hook below answers it instead.
    http: { requireHostHeader: false },
    frameworkErrors: renderFrameworkError,
    clientErrorHandler: renderClientError,
    ajv: { customOptions: { allErrors: true, removeAdditional: false, coerceTypes: "array", useDefaults: true } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  // JSON only: without the default text/plain parser a non-JSON body answers 415 instead of a confusing 400.
  app.removeContentTypeParser("text/plain");
  // Many clients send `content-type: application/json` on every request: an empty body is no body (a route that
  // needs one still answers 400 VALIDATION_FAILED from its schema), anything else is parsed as Fastify does.
  const parseJson = app.getDefaultJsonParser("error", "error");
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "string" }, (request, body, done) => {
    if (body.length === 0) return done(null, undefined);
    return parseJson(request, body as string, done);
  });
  app.addHook("onRequest", async (request, reply) => {
    reply.header("x-request-id", request.id);
    if (request.raw.httpVersion === "1.1" && request.headers.host === undefined) throw new AppError("BAD_REQUEST", "An HTTP/1.1 request needs a Host header.");
  });
  app.addSchema(ErrorBody);
  registerErrorHandling(app);
  registerInputRules(app);
  await registerOpenApi(app, { extendDocument: (doc) => addTriggerSchemas(addActionSchemas(doc, deps.registry), deps.registry) });
  const consoleSession = createConsoleSession({ secret: deps.config.adminToken, secure: deps.config.isProduction });
  registerAuth(app, { adminToken: deps.config.adminToken, apiKeys: deps.services.apiKeys, workspaces: deps.services.workspaces, consoleSession });
  // Before the routes: its onResponse hook times every one of them.
  await registerMetrics(app, { redis: deps.redis, queuePrefix: deps.config.queuePrefix, token: deps.config.metricsToken, openEventStreams: deps.services.runEvents.openCount });
  await registerQueueDashboard(app, { redis: deps.redis, queuePrefix: deps.config.queuePrefix, adminToken: deps.config.adminToken, secureCookie: deps.config.isProduction });

  // In this order: the OpenAPI document lists the paths as they are registered.
  for (const routes of [healthRoutes, workspaceRoutes, apiKeyRoutes, connectionRoutes, executeRoutes, runRoutes, runEventRoutes, integrationRoutes, actionRoutes, flowRoutes, triggerRoutes, toolsetRoutes, mcpRoutes]) {
    await app.register(routes, { deps });
  }
  await app.register(consoleRoutes, { deps, session: consoleSession });
  for (const routes of [triggerSubscriptionRoutes, eventRoutes, inboundRoutes]) await app.register(routes, { deps });
  return app;
}
