import { PassThrough, type Readable } from "node:stream";
import { Type } from "typebox";
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { notFound } from "@nagent/errors";
import type { AppDeps } from "../../app";
import { endsStream } from "../../services/run-event-feed";
import { workspaceOf } from "../../plugins/auth";
import { IdParams, errorResponses } from "../../schemas/common";
import type { RunUpdate } from "../../services/run-event-feed";

/**
 * Comment lines keep proxies and load balancers from closing an idle stream (most cut at 30–60 s); each one also
 * re-reads the run, the safety net for a notification lost while the LISTEN connection was reconnecting.
 */
export const HEARTBEAT_MS = 15_000;

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

const frame = (update: RunUpdate) => `id: ${update.attempt}-${update.status}\nevent: run\ndata: ${JSON.stringify(update)}\n\n`;

/** Live run states (server-sent events) for the agent-builder UI. */
export const runEventRoutes: FastifyPluginAsyncTypebox<{ deps: AppDeps }> = async (app, { deps }) => {
  const feed = deps.services.runEvents;
  // Open streams would hold `app.close()` until their clients leave: end them first.
  app.addHook("preClose", async () => feed.endAll());

  app.get("/v1/runs/:id/events", {
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
    if (request.headers["last-event-id"] !== undefined) {
      const run = await deps.services.runs.get(workspaceId, runId);
      if (endsStream(run.status)) return reply.status(204).send(null);
    }

    const stream = new PassThrough();
    const open = () => !stream.writableEnded && !stream.destroyed;
    const follow = await feed.follow(workspaceId, runId, {
      update: (update) => {
        if (open()) stream.write(frame(update));
      },
      end: () => {
        if (open()) stream.end();
      },
    });
    if (!follow) {
      stream.destroy();
      throw notFound("Run");
    }
    const heartbeat = setInterval(() => {
      if (open()) stream.write(": keep-alive\n\n");
      follow.recheck().catch((error: Error) => request.log.warn({ runId, err: { message: error.message } }, "run event recheck failed"));
    }, HEARTBEAT_MS);
    const cleanup = () => {
      clearInterval(heartbeat);
      follow.close();
      stream.destroy();
    };
    // The client went away (or the stream ended): stop following, free the slot.
    reply.raw.once("close", cleanup);
    stream.once("close", cleanup);

    reply.header("content-type", "text/event-stream; charset=utf-8");
    reply.header("cache-control", "no-cache, no-transform");
    // nginx buffers responses by default, which would hold events back.
    reply.header("x-accel-buffering", "no");
    return reply.send(stream);
  });
};
