import { type Static, Type } from "typebox";

/**
 * Every environment variable the platform reads, in one schema. Names are the variables' own; `loadConfig` turns
 * them into the typed `Config`. Defaults here are development defaults: production refuses to start without the
 * secrets (see `loadConfig`).
 */
export const EnvSchema = Type.Object({
  NODE_ENV: Type.Enum(["development", "production", "test"], { default: "development" }),
  LOG_LEVEL: Type.Enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"], { default: "info" }),
  DATABASE_URL: Type.String({ pattern: "^postgres(ql)?://", maxLength: 2048, default: "postgresql://postgres@127.0.0.1:5432/nagent" }),
  REDIS_URL: Type.String({ pattern: "^rediss?://", maxLength: 2048, default: "redis://127.0.0.1:6379" }),
  HOST: Type.String({ minLength: 1, maxLength: 255, default: "127.0.0.1" }),
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3000 }),
  NAGENT_ADMIN_TOKEN: Type.Optional(Type.String({ minLength: 32, maxLength: 256 })),
  NAGENT_MASTER_KEYS: Type.Optional(Type.String({ minLength: 1, maxLength: 8192 })),
  NAGENT_SCALE_BASE_URL: Type.String({ pattern: "^https?://", maxLength: 2048, default: "https://api.scale.com" }),
  /** Comma-separated host names (or `*.suffix`) that outbound URLs may target even when private or loopback. */
  NAGENT_EGRESS_ALLOWLIST: Type.String({ maxLength: 8192, default: "" }),
  /** Whether outbound URLs may target private, loopback and link-local addresses. Default: yes outside production. */
  NAGENT_ALLOW_PRIVATE_EGRESS: Type.Optional(Type.Boolean()),
  /** BullMQ key prefix; separate deployments (or tests) sharing one Redis use different prefixes. */
  NAGENT_QUEUE_PREFIX: Type.String({ pattern: "^[A-Za-z0-9:_-]{1,64}$", default: "nagent" }),
  NAGENT_SYNC_TIMEOUT_MS: Type.Integer({ minimum: 0, maximum: 120_000, default: 30_000 }),
  /**
   * Whether a sync execute runs its run's first attempt in the API process when a slot is free at once (the API then
   * calls the upstream itself). `false` sends every attempt through the queue to a worker, for deployments whose API
   * processes must not reach upstreams; a sync execute then costs ~2–3 ms more (README, "Sync executes run inline").
   */
  NAGENT_SYNC_INLINE: Type.Boolean({ default: true }),
  NAGENT_UPSTREAM_TIMEOUT_MS: Type.Integer({ minimum: 100, maximum: 600_000, default: 30_000 }),
  NAGENT_MAX_ATTEMPTS: Type.Integer({ minimum: 1, maximum: 20, default: 5 }),
  /** Runs one worker process works on at once. Runs mostly wait on the upstream, and the hot path batches its
   *  database and Redis work across them, so a high value is cheap (measured best at 256 on 2 cores, bench/execute). */
  NAGENT_WORKER_CONCURRENCY: Type.Integer({ minimum: 1, maximum: 2000, default: 256 }),
  /**
   * Async runs of one workspace enqueued together share one queue job, up to this many (issue 17: BullMQ's own work
   * per job was the largest single cost of an async run). 1: one job per run.
   */
  NAGENT_RUN_BATCH_MAX: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
  /**
   * How long a worker's lock on a running job lasts (BullMQ `lockDuration`; the live worker renews it every half of
   * it). A worker that died (SIGKILL, lost machine) has its runs taken over by another worker after about this long
   * plus one stalled-job check, which runs as often (capped at 30 s). Default: 30 s, or the upstream timeout + 15 s
   * when longer.
   */
  NAGENT_WORKER_LOCK_MS: Type.Optional(Type.Integer({ minimum: 1_000, maximum: 600_000 })),
  /**
   * The worker process's V8 heap budget in MiB (`--max-old-space-size`, given when the process starts: `npm start`,
   * `npm run worker`). Node otherwise derives it from the machine's memory (about 4 GiB here) and lets the heap grow
   * to several times its live size between collections; with a budget its memory stays level (bench/execute (e)).
   * Raise it for large file uploads at high concurrency.
   */
  NAGENT_WORKER_HEAP_MB: Type.Integer({ minimum: 128, maximum: 65_536, default: 1_024 }),
  /** Upstream requests per second allowed per connection; runs beyond it wait in the queue, not in a worker. */
  NAGENT_CONNECTION_RATE_PER_SEC: Type.Number({ minimum: 0.01, maximum: 10_000, default: 20 }),
  /** Runs of one workspace that may be in flight at once, across all workers. */
  NAGENT_WORKSPACE_CONCURRENCY: Type.Integer({ minimum: 1, maximum: 10_000, default: 32 }),
  NAGENT_RUN_RETENTION_DAYS: Type.Integer({ minimum: 1, maximum: 3650, default: 30 }),
  NAGENT_SHUTDOWN_TIMEOUT_MS: Type.Integer({ minimum: 100, maximum: 600_000, default: 10_000 }),
  /** Open run event streams (GET /v1/runs/:id/events) one API process holds at most; more answer 503. */
  NAGENT_EVENT_STREAMS_MAX: Type.Integer({ minimum: 1, maximum: 100_000, default: 1_000 }),
  /** The platform's public origin, used in the inbound callback URLs handed to upstreams (default http://HOST:PORT). */
  NAGENT_PUBLIC_URL: Type.Optional(Type.String({ pattern: "^https?://[^/?#]+(/[^?#]*)?$", maxLength: 512 })),
  /** Time a trigger subscriber has to answer one delivery. */
  NAGENT_TRIGGER_DELIVERY_TIMEOUT_MS: Type.Integer({ minimum: 100, maximum: 120_000, default: 15_000 }),
  /** How often connections set to `events: "poll"` are polled. */
  NAGENT_TRIGGER_POLL_MS: Type.Integer({ minimum: 1_000, maximum: 3_600_000, default: 30_000 }),
  /** When set, GET /metrics requires it as a Bearer token; unset, /metrics is public (keep it off the internet). */
  NAGENT_METRICS_TOKEN: Type.Optional(Type.String({ minLength: 16, maxLength: 256 })),
});

export type Env = Static<typeof EnvSchema>;
