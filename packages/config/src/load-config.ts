import { Compile } from "typebox/compile";
import { Value } from "typebox/value";
import { EnvSchema, type Env } from "./schema";
import { parseMasterKeys, type MasterKey } from "./master-keys";

/** The platform's configuration, validated and typed. Build it with `loadConfig`; never read process.env elsewhere. */
export interface Config {
  readonly nodeEnv: Env["NODE_ENV"];
  readonly isProduction: boolean;
  readonly logLevel: Env["LOG_LEVEL"];
  readonly databaseUrl: string;
  readonly redisUrl: string;
  readonly host: string;
  readonly port: number;
  readonly adminToken: string;
  readonly masterKeys: readonly MasterKey[];
  readonly scaleBaseUrl: string;
  readonly egress: { readonly allowPrivate: boolean; readonly allowlist: readonly string[] };
  readonly queuePrefix: string;
  readonly syncTimeoutMs: number;
  /** Sync executes run their first attempt in the API process (NAGENT_SYNC_INLINE). */
  readonly syncInline: boolean;
  readonly upstreamTimeoutMs: number;
  readonly maxAttempts: number;
  readonly workerConcurrency: number;
  /** Async runs per queue job at most (NAGENT_RUN_BATCH_MAX; 1 = one job per run). */
  readonly runBatchMax: number;
  /** BullMQ lock duration of a running job (see NAGENT_WORKER_LOCK_MS). */
  readonly workerLockMs: number;
  /** The worker process's V8 heap budget, MiB (see NAGENT_WORKER_HEAP_MB and workerNodeArgs). */
  readonly workerHeapMb: number;
  readonly connectionRatePerSec: number;
  readonly workspaceConcurrency: number;
  readonly runRetentionDays: number;
  readonly shutdownTimeoutMs: number;
  readonly eventStreamsMax: number;
  /** Bearer token GET /metrics requires; null = public. */
  readonly metricsToken: string | null;
  /** Public origin of the API (inbound callback URLs), without a trailing slash. */
  readonly publicUrl: string;
  readonly triggerDeliveryTimeoutMs: number;
  readonly triggerPollMs: number;
}

/** Thrown when the environment is missing or malformed; `problems` names each variable. */
export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
    this.problems = problems;
  }
}

const validator = Compile(EnvSchema);
const KNOWN = new Set(Object.keys(EnvSchema.properties));

/**
 * Validates an environment (process.env by default) and returns the typed configuration. Empty strings count as
 * unset. Numbers and booleans are converted from their text. In production the admin token and the master keys are
 * required everywhere (outside production `readEnvironment` generates them first); `secrets: false` skips them for
 * tools that need only the database (migrations).
 */
export function loadConfig(source: Readonly<Record<string, string | undefined>>, options: { secrets?: boolean } = {}): Config {
  const needSecrets = options.secrets ?? true;
  const raw: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(source)) {
    if (KNOWN.has(name) && value !== undefined && value !== "") raw[name] = value;
  }
  const converted = Value.Default(EnvSchema, Value.Convert(EnvSchema, raw)) as Record<string, unknown>;
  const problems: string[] = [];
  const named = new Set<string>();
  for (const error of validator.Errors(converted)) {
    const name = error.instancePath.replace(/^\//, "") || missingName(error.params);
    if (named.has(name)) continue; // one problem per variable is enough to fix it
    named.add(name);
    // Never echo the value: it may be a secret.
    problems.push(`${name}: ${error.message}`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  const env = converted as Env;

  if (needSecrets && env.NAGENT_ADMIN_TOKEN === undefined) problems.push("NAGENT_ADMIN_TOKEN: is required (a random string of at least 32 characters)");
  let masterKeys: MasterKey[] = [];
  if (env.NAGENT_MASTER_KEYS === undefined) {
    if (needSecrets) problems.push("NAGENT_MASTER_KEYS: is required (format v1:<base64 of 32 bytes>[,v2:<…>])");
  } else {
    try {
      masterKeys = parseMasterKeys(env.NAGENT_MASTER_KEYS);
    } catch (error) {
      problems.push(`NAGENT_MASTER_KEYS: ${(error as Error).message}`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const isProduction = env.NODE_ENV === "production";
  return {
    nodeEnv: env.NODE_ENV,
    isProduction,
    logLevel: env.LOG_LEVEL,
    databaseUrl: env.DATABASE_URL,
    redisUrl: env.REDIS_URL,
    host: env.HOST,
    port: env.PORT,
    adminToken: env.NAGENT_ADMIN_TOKEN ?? "",
    masterKeys,
    scaleBaseUrl: env.NAGENT_SCALE_BASE_URL.replace(/\/+$/, ""),
    egress: {
      allowPrivate: env.NAGENT_ALLOW_PRIVATE_EGRESS ?? !isProduction,
      allowlist: env.NAGENT_EGRESS_ALLOWLIST.split(",").map((h) => h.trim().toLowerCase()).filter(Boolean),
    },
    queuePrefix: env.NAGENT_QUEUE_PREFIX,
    syncTimeoutMs: env.NAGENT_SYNC_TIMEOUT_MS,
    syncInline: env.NAGENT_SYNC_INLINE,
    upstreamTimeoutMs: env.NAGENT_UPSTREAM_TIMEOUT_MS,
    maxAttempts: env.NAGENT_MAX_ATTEMPTS,
    workerConcurrency: env.NAGENT_WORKER_CONCURRENCY,
    runBatchMax: env.NAGENT_RUN_BATCH_MAX,
    workerLockMs: env.NAGENT_WORKER_LOCK_MS ?? Math.max(30_000, env.NAGENT_UPSTREAM_TIMEOUT_MS + 15_000),
    workerHeapMb: env.NAGENT_WORKER_HEAP_MB,
    connectionRatePerSec: env.NAGENT_CONNECTION_RATE_PER_SEC,
    workspaceConcurrency: env.NAGENT_WORKSPACE_CONCURRENCY,
    runRetentionDays: env.NAGENT_RUN_RETENTION_DAYS,
    shutdownTimeoutMs: env.NAGENT_SHUTDOWN_TIMEOUT_MS,
    eventStreamsMax: env.NAGENT_EVENT_STREAMS_MAX,
    metricsToken: env.NAGENT_METRICS_TOKEN ?? null,
    publicUrl: (env.NAGENT_PUBLIC_URL ?? `http://${env.HOST.includes(":") ? `[${env.HOST}]` : env.HOST}:${env.PORT}`).replace(/\/+$/, ""),
    triggerDeliveryTimeoutMs: env.NAGENT_TRIGGER_DELIVERY_TIMEOUT_MS,
    triggerPollMs: env.NAGENT_TRIGGER_POLL_MS,
  };
}

function missingName(params: unknown): string {
  const p = params as { requiredProperties?: string[]; missingProperty?: string } | undefined;
  return p?.requiredProperties?.join(", ") ?? p?.missingProperty ?? "(environment)";
}
