import type { Readable } from "node:stream";
import fastifySse from "@fastify/sse";
import { Type } from "typebox";
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { notFound } from "@nagent/errors";
import type { AppDeps } from "../../deps";
import { endsStream, type RunFollow } from "../../services/run-event-feed";
import { workspaceOf } from "../../plugins/auth";
import { IdParams, errorResponses } from "../../schemas/common";

/**
 * Comment lines keep proxies and load balancers from closing an idle stream (most cut at 30–60 s); each one also
 * re-reads the run, the safety net for a notification lost while the LISTEN connection was reconnecting.
 */
export const HEARTBEAT_MS = 15_000;
/**
 * Written by hand rather than by @fastify/sse's heartbeat, which writes a fixed `: heartbeat`: the documented comment
 * (OpenAPI, generated into the SDK) is `: keep-alive`, and the same timer re-reads the run.
 */
const KEEP_ALIVE = ": keep-alive\n\n";

const DESCRIPTION = [
  "Streams the run's state as server-sent events (`text/event-stream`), so a UI can show a run live without polling.",
  "",
  "Every event is `event: run` with JSON `data` holding the run's full current state: `{id, status, attempt, reason, waiting, at}` (`waiting`: why a queued run waits — `{reason: rate_limit | workspace_cap | retry_backoff | connection_paused, since, resume_at}` — or null; a new reason sends a new event), and for a terminal state (`succeeded`, `failed`, `canceled`, `unknown`) also `output`, the envelope `{data, error, successful}`. The first event is the state at connection time; then one event per state change (`queued` → `running` → … → terminal). The server ends the stream after the terminal event, except after `unknown` (a write whose outcome could not be established, also sent with its `output`): that stream stays open until the run is reconciled (POST /v1/runs/:id/reconcile), whose `succeeded` or `failed` state ends it; a browser's `EventSource` should `close()` on it (a reconnect that sends `Last-Event-ID` for an ended run answers 204, which stops `EventSource` from retrying).",
  "",
  "Comment lines (`: keep-alive`) are sent every 15 s. Each API process holds a bounded number of open streams (`NAGENT_EVENT_STREAMS_MAX`); beyond it the route answers 503 `STREAM_LIMIT_REACHED` with Retry-After.",
].join("\n");

/** Documented as text; typed as the stream the handler sends. */
const EventStream = Type.Unsafe<Readable>({
  type: "string",
  description: "`id: <attempt>-<status>\\nevent: run\\ndata: {\"id\":…,\"status\":…,\"attempt\":…,\"reason\":…,\"waiting\":…,\"at\":…,\"output\"?:…}`",
});

/**
 * Live run states (server-sent events) for the agent-builder UI. @fastify/sse frames the events (`id`, `event`, `data`),
 * writes the response head on the first one (so a 404 or 503 thrown before it is an ordinary error response), waits
 * for `drain` when the client reads slower than runs change, and tells us when the client leaves.
 */
export const runEventRoutes: FastifyPluginAsyncTypebox<{ deps: AppDeps }> = async (app, { deps }) => {
  const feed = deps.services.runEvents;
  await app.register(fastifySse);
  // Open streams would hold `app.close()` until their clients leave: end them first.
  app.addHook("preClose", async () => feed.endAll());

  app.get("/v1/runs/:id/events", {
    // `manual`: no Accept negotiation (the route streams whatever the client accepts, as it always has); our timer sends
    // the comment lines (see KEEP_ALIVE).
    sse: { kind: "manual", heartbeat: false },
    schema: {
      tags: ["runs"], security: [{ apiKey: [] }], summary: "Stream a run's state changes (server-sent events)", description: DESCRIPTION,
      params: IdParams,
      headers: Type.Object({ "last-event-id": Type.Optional(Type.String({ maxLength: 64 })) }),
      response: {
        200: {
          description: "An event stream: `event: run` frames whose `data` is the run's state as JSON.",
          content: { "text/event-stream": { schema: EventStream } },
        },
        204: Type.Null({ description: "The client resumed (Last-Event-ID) the stream of a run that has ended: nothing more will come." }),
        ...errorResponses(404, 503),
      },
    },
  }, async (request, reply) => {
    const workspaceId = workspaceOf(request);
    const runId = request.params.id;
    const sse = reply.sse;
    if (request.headers["last-event-id"] !== undefined) {
      const run = await deps.services.runs.get(workspaceId, runId);
      if (endsStream(run.status)) return reply.status(204).send(null);
    }

    let heartbeat: NodeJS.Timeout | undefined;
    let follow: RunFollow | null = null;
    // The client went away, or the stream ended: stop following, free the slot.
    sse.onClose(() => {
      clearInterval(heartbeat);
      follow?.close();
    });
    follow = await feed.follow(workspaceId, runId, {
      update: (update) => {
        if (!sse.isConnected) return;
        // Set with the first event (a 404 or 503 before it stays JSON); @fastify/sse copies them onto the response head
        // over its own `text/event-stream` and `no-cache`.
        if (!reply.raw.headersSent) reply.header("content-type", "text/event-stream; charset=utf-8").header("cache-control", "no-cache, no-transform");
        sse.send({ id: `${update.attempt}-${update.status}`, event: "run", data: update })
          .catch((error: Error) => request.log.debug({ runId, err: { message: error.message } }, "run event not sent"));
      },
      end: () => sse.close(),
    });
    if (!follow) throw notFound("Run");
    if (!sse.isConnected) {
      // The run had ended already (its last state went out and the stream is closed), or the client left meanwhile.
      follow.close();
      return;
    }
    sse.keepAlive();
    heartbeat = setInterval(() => {
      if (sse.isConnected) reply.raw.write(KEEP_ALIVE);
      follow.recheck().catch((error: Error) => request.log.warn({ runId, err: { message: error.message } }, "run event recheck failed"));
    }, HEARTBEAT_MS);
  });
};
