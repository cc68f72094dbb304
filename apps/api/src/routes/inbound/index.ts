import { Type } from "typebox";
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { AppDeps } from "../../deps";
import { errorResponses } from "../../schemas/common";
import type { InboundConnection } from "../../services/inbound-callbacks";

/** A callback body above this size answers 413 (a Scale task with its response is a few KB to a few hundred). */
export const INBOUND_BODY_LIMIT_BYTES = 1024 * 1024;

declare module "fastify" {
  interface FastifyRequest {
    inboundConnection?: InboundConnection;
  }
}

/**
 * Inbound callbacks from upstreams: Scale AI POSTs `{task, response, task_id}` with `scale-callback-auth` to a
 * connection's inbound URL. No API key: the unguessable token finds the connection and the callback auth key
 * authenticates the call, before the body is validated (a forged call learns nothing but 401).
 */
export const inboundRoutes: FastifyPluginAsyncTypebox<{ deps: AppDeps }> = async (app, { deps }) => {
  const inbound = deps.services.inboundCallbacks;

  app.post("/v1/inbound/scale_ai/:token", {
    config: { auth: "public" },
    bodyLimit: INBOUND_BODY_LIMIT_BYTES,
    schema: {
      tags: ["triggers"], summary: "Receive a Scale AI callback",
      description: "Scale AI's task callbacks (completion, error, audit, recall) for one connection: set the connection's inbound_url as the task's callback_url " +
        "(execute does it when none is given). Answers 200 once the events are stored; Scale's retries of one callback make one event. " +
        "401 without the right scale-callback-auth (nothing is stored).",
      params: Type.Object({ token: Type.String({ minLength: 16, maxLength: 64, pattern: "^[A-Za-z0-9_-]+$" }) }, { additionalProperties: false }),
      headers: Type.Object({ "scale-callback-auth": Type.Optional(Type.String({ maxLength: 1024 })) }),
      body: Type.Object({
        task_id: Type.String({ minLength: 1, maxLength: 128 }),
        task: Type.Object({}, { maxProperties: 200, description: "The task as Scale answers it." }),
        response: Type.Optional(Type.Union([Type.Object({}, { maxProperties: 1000 }), Type.Null()])),
      }, { maxProperties: 50 }),
      response: { 200: Type.Object({ received: Type.Boolean(), events: Type.Integer(), duplicates: Type.Integer() }), ...errorResponses(404, 413) },
    },
    preValidation: async (request) => {
      const header = request.headers["scale-callback-auth"];
      const params = request.params as { token?: unknown };
      const token = typeof params.token === "string" && /^[A-Za-z0-9_-]{16,64}$/.test(params.token) ? params.token : "";
      request.inboundConnection = await inbound.authenticate("scale_ai", token, typeof header === "string" ? header : undefined);
    },
  }, async (request) => {
    const result = await inbound.receiveScale(request.inboundConnection!, request.body as { task_id: string; task: Record<string, unknown>; response?: unknown });
    return { received: true, ...result };
  });
};
