import type { FastifyInstance } from "fastify";
import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import { Type } from "typebox";
import { AppError } from "@nagent/errors";
import { createRunMetricsReader } from "@nagent/metrics";
import { RUNS_QUEUE } from "@nagent/queue";
import { bearerToken } from "../bearer-token";
import { sameSecret } from "../../services/api-key-secret";
import { registerRunCollectors } from "./run-collectors";

export interface MetricsOptions {
  /** The API's Redis connection (fail-fast): run metrics and queue counts are read through it at scrape time. */
  readonly redis: Redis;
  readonly queuePrefix: string;
  /** When set, GET /metrics needs it as a Bearer token. */
  readonly token: string | null;
  /** Run event streams open in this process. */
  readonly openEventStreams: () => number;
}

const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * Prometheus metrics at GET /metrics, one registry per app (no global state, so tests build as many apps as they
 * like). Run metrics and queue counts are cluster-wide (kept in Redis by every API and worker process); HTTP and
 * process metrics are this process's own. Labels are route patterns, methods, statuses and registry slugs: never ids.
 * Registered on the root instance before the routes, so its onResponse hook sees every route.
 */
export async function registerMetrics(app: FastifyInstance, options: MetricsOptions): Promise<void> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "nagent_" });

  const runsQueue = new Queue(RUNS_QUEUE, { connection: options.redis, prefix: options.queuePrefix });
  runsQueue.on("error", (error) => app.log.debug({ err: { message: error.message } }, "metrics queue connection error"));
  app.addHook("onClose", async () => runsQueue.close());
  registerRunCollectors(registry, { redis: options.redis, reader: createRunMetricsReader(options.redis, { prefix: options.queuePrefix }), runsQueue, log: app.log });

  new Gauge({
    name: "nagent_run_event_streams_open",
    help: "Run event streams (GET /v1/runs/:id/events) open in this API process.",
    registers: [registry],
    collect() {
      this.set(options.openEventStreams());
    },
  });

  const httpDuration = new Histogram({
    name: "nagent_http_request_duration_seconds",
    help: "HTTP requests served by this API process, by method, route pattern and status code (an event stream counts until it ends).",
    labelNames: ["method", "route", "status_code"],
    buckets: HTTP_BUCKETS,
    registers: [registry],
  });
  app.addHook("onResponse", async (request, reply) => {
    // The route's pattern (/v1/runs/:id), never the URL: ids and query strings would be unbounded label values.
    httpDuration.observe({ method: request.method, route: request.routeOptions.url ?? "unmatched", status_code: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });

  app.get("/metrics", {
    config: { auth: "public" },
    schema: {
      tags: ["operations"],
      summary: "Prometheus metrics",
      description: [
        "Prometheus text format. Run metrics (`nagent_runs_*`, `nagent_run_*`, `nagent_upstream_latency_seconds`) and `nagent_queue_jobs` are cluster-wide: every API process reports the same values (aggregate with `max`, not `sum`). HTTP and process metrics are per process.",
        "Public unless `NAGENT_METRICS_TOKEN` is set, then it needs that token as a Bearer token; do not expose it to the internet either way.",
      ].join("\n\n"),
      response: {
        200: { description: "Prometheus text exposition format 0.0.4.", content: { "text/plain": { schema: Type.String() } } },
        401: Type.Ref("ErrorBody"),
      },
    },
    onRequest: async (request) => {
      const token = options.token;
      if (token === null) return;
      const given = bearerToken(request);
      if (given === null || !sameSecret(given, token)) throw new AppError("UNAUTHORIZED", "GET /metrics needs the metrics token (NAGENT_METRICS_TOKEN) as a Bearer token.");
    },
  }, async (_request, reply) => {
    const body = await registry.metrics();
    return reply.type(registry.contentType).send(body);
  });
}
