import type { Redis } from "ioredis";
import type { Config } from "@nagent/config";
import { createDatabase, createPgListener, type ConnectionTransition, type Database, type PgListener } from "@nagent/db";
import type { Logger } from "@nagent/logger";
import { createFairness, createRedis, createRunProducer, type Fairness, type RunProducer } from "@nagent/queue";
import { loadRegistry, syncSchemaVersions, INTEGRATIONS_DIR, type Registry } from "@nagent/registry";
import { createRunner, type Runner } from "@nagent/runner";
import { createRunEventHub, createRunLister, createRunStore, type RunEventHub } from "@nagent/runs";
import { createVault, type Vault } from "@nagent/vault";
import { createRunMetricsRecorder, type RunMetricsRecorder } from "@nagent/metrics";
import { createApiKeyService } from "./services/api-keys";
import { createWorkspaceService } from "./services/workspaces";
import { createConnectionService } from "./services/connections";
import { createExecuteAction } from "./services/execute-action";
import { createRunService } from "./services/runs";
import { createRunEventFeed } from "./services/run-event-feed";
import { countFinishedOnCancel } from "./services/count-canceled-runs";
import { createToolsetService } from "./services/toolsets";
import { createRunStats } from "./services/run-stats";
import { createConnectionStatusEmitter, createDeliveryProducer, type ConnectionStatusEmitter, type DeliveryProducer } from "@nagent/triggers";
import { createTriggerSubscriptionService } from "./services/trigger-subscriptions";
import { createTriggerEventService } from "./services/trigger-events";
import { createInboundCallbackService } from "./services/inbound-callbacks";
import { createConnectionHealth, createRunAttempts } from "@nagent/attempts";

/** The infrastructure the API runs on, built once per process (or per test). */
export interface Infrastructure {
  readonly config: Config;
  readonly logger: Logger;
  readonly db: Database;
  /** Fail-fast Redis connection: readiness checks and the queue producer. */
  readonly redis: Redis;
  readonly registry: Registry;
  readonly vault: Vault;
  readonly runner: Runner;
  readonly fairness: Fairness;
  readonly producer: RunProducer;
  /** The process's LISTEN connection (run events, credential revocations). */
  readonly listener: PgListener;
  readonly events: RunEventHub;
  readonly runMetrics: RunMetricsRecorder;
  /** Enqueues trigger deliveries (after their rows are committed). */
  readonly deliveries: DeliveryProducer;
  /** Publishes a connection status transition as NAGENT_CONNECTION_STATUS_CHANGED (never throws; see the catch-up). */
  readonly connectionStatus: ConnectionStatusEmitter;
}

/**
 * The composition root of the API: connects PostgreSQL and Redis, loads the registry (refusing to start on an
 * invalid manifest) and syncs its schema versions, opens the vault (checking the keyring), and wires the services.
 */
export async function createInfrastructure(config: Config, logger: Logger, overrides: { redisUrl?: string; manifestsDir?: string; db?: Database } = {}): Promise<Infrastructure> {
  const registry = loadRegistry(overrides.manifestsDir ?? INTEGRATIONS_DIR);
  const db = overrides.db ?? createDatabase({ url: config.databaseUrl, max: 20, onPoolError: (err) => logger.warn({ err: { message: err.message } }, "idle PostgreSQL connection failed") });
  await syncSchemaVersions(db.prisma, registry);
  const redis = createRedis(overrides.redisUrl ?? config.redisUrl, "producer", (err) => logger.debug({ err: err.message }, "redis connection error"));
  // Start serving even while Redis is down (readiness says so, runs wait in PostgreSQL), but not before a healthy
  // Redis had a moment to connect.
  await waitUntilReady(redis, 2_000);
  const vault = await createVault({ prisma: db.prisma, masterKeys: config.masterKeys });
  const runner = createRunner({ timeoutMs: config.upstreamTimeoutMs, egress: config.egress });
  const fairness = createFairness(redis, {
    prefix: config.queuePrefix,
    workspaceConcurrency: config.workspaceConcurrency,
    connectionRatePerSec: config.connectionRatePerSec,
    leaseMs: config.upstreamTimeoutMs * 2 + 10_000,
  });
  const producer = createRunProducer({ redis, prefix: config.queuePrefix, fairness, batchMax: config.runBatchMax });
  const listener = createPgListener({ url: config.databaseUrl, onError: (err) => logger.warn({ err: { message: err.message } }, "PostgreSQL LISTEN connection error") });
  const events = createRunEventHub({ listener });
  await listener.start();
  // Cluster-wide run metrics in Redis (rendered by GET /metrics); best effort, never on a request's critical path.
  const runMetrics = createRunMetricsRecorder(redis, { prefix: config.queuePrefix });
  const deliveries = createDeliveryProducer({ redis, prefix: config.queuePrefix });
  // Each transition's platform event, emitted right after it; one lost here (the process died) is emitted by the
  // worker's trigger maintenance catch-up, keyed by the transition's connection_event id.
  const connectionStatus = createConnectionStatusEmitter({
    pool: db.pool, matcher: registry, producer: deliveries, logger,
    onEvent: (trigger, source) => void runMetrics.triggerEvent(trigger, source).catch((error: Error) => logger.warn({ err: { message: error.message } }, "could not record event metrics")),
  });
  return { config, logger, db, redis, registry, vault, runner, fairness, producer, listener, events, runMetrics, deliveries, connectionStatus };
}

async function waitUntilReady(redis: Redis, timeoutMs: number): Promise<void> {
  if (redis.status === "ready") return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(done, timeoutMs);
    redis.once("ready", done);
    function done() {
      clearTimeout(timer);
      redis.off("ready", done);
      resolve();
    }
  });
}

export async function closeInfrastructure(infra: Infrastructure): Promise<void> {
  infra.events.close();
  await infra.connectionStatus.drain();
  await infra.runMetrics.close();
  await Promise.allSettled([infra.listener.close(), infra.producer.close(), infra.runner.close(), infra.deliveries.close()]);
  infra.vault.close();
  await Promise.allSettled([infra.db.close(), infra.redis.quit()]);
}

export function createServices(infra: Infrastructure) {
  const { config, db, registry, vault, runner, producer, fairness, events, logger } = infra;
  const prisma = db.prisma;
  const store = createRunStore(db.pool);
  const apiKeys = createApiKeyService({ prisma, pool: db.pool, listener: infra.listener });
  const defaultBaseUrl = (integration: string) =>
    integration === "scale_ai" ? config.scaleBaseUrl : (registry.getRunSpec(registry.getIntegration(integration)?.actions[0]?.slug ?? "")?.base_url ?? "");
  const onTransition = (t: ConnectionTransition) => {
    void infra.runMetrics.connectionTransition(t).catch((error: Error) => logger.warn({ err: { message: error.message } }, "could not record a connection metric"));
    void infra.connectionStatus(t);
  };
  const connections = createConnectionService({
    prisma, pool: db.pool, registry, vault, runner, egress: config.egress, defaultBaseUrl, publicUrl: config.publicUrl, onTransition,
  });
  // Cluster-wide run metrics in Redis (rendered by GET /metrics); best effort, never on a request's critical path.
  const runMetrics = infra.runMetrics;
  const metricsFailed = (error: Error) => logger.warn({ err: { message: error.message } }, "could not record a run metric");
  // A sync execute's first attempt runs in this process (execute-action.ts, "Inline attempt"), with the worker's steps.
  const attempts = !config.syncInline ? null : createRunAttempts({
    pool: db.pool, store, registry, vault, runner, fairness, logger, maxAttempts: config.maxAttempts, publicUrl: config.publicUrl,
    health: createConnectionHealth({ pool: db.pool, redis: infra.redis, prefix: config.queuePrefix, logger, onTransition }),
    onRunFinished: (run) => void runMetrics.runFinished(run).catch(metricsFailed),
    onOutputChecked: (check) => void runMetrics.outputChecked(check).catch(metricsFailed),
  });
  return {
    workspaces: createWorkspaceService({ prisma, vault, forgetWorkspace: (id) => apiKeys.forgetWorkspace(id) }),
    apiKeys,
    connections,
    executeAction: createExecuteAction({ registry, connections, store, producer, events, egress: config.egress, logger, vault, syncTimeoutMs: config.syncTimeoutMs, attempts,
      onRunStarted: (run) => void runMetrics.runStarted(run).catch(metricsFailed) }),
    runs: countFinishedOnCancel(createRunService({ store, lister: createRunLister(db.pool), producer, fairness, registry }), (run) => void runMetrics.runFinished(run).catch(metricsFailed)),
    runStats: createRunStats({ pool: db.pool }),
    runEvents: createRunEventFeed({ store, events, maxOpen: config.eventStreamsMax }),
    toolsets: createToolsetService({ prisma, registry, connections }),
    triggerSubscriptions: createTriggerSubscriptionService({ pool: db.pool, registry, vault, egress: config.egress, producer: infra.deliveries, logger }),
    triggerEvents: createTriggerEventService({ pool: db.pool, producer: infra.deliveries, logger }),
    inboundCallbacks: createInboundCallbackService({ pool: db.pool, registry, vault, producer: infra.deliveries, logger,
      onEvent: (trigger, source) => void runMetrics.triggerEvent(trigger, source).catch(metricsFailed) }),
  };
}

export type Services = ReturnType<typeof createServices>;
