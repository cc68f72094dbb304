import { Worker } from "bullmq";
import type { Redis } from "ioredis";
import type pg from "pg";
import type { Config } from "@nagent/config";
import type { Logger } from "@nagent/logger";
import type { Registry } from "@nagent/registry";
import type { Runner } from "@nagent/runner";
import type { Vault } from "@nagent/vault";
import { TRIGGER_DELIVERIES_QUEUE, TRIGGER_MAINTENANCE_QUEUE, TRIGGER_MAINTENANCE_SCHEDULES, type TriggerDeliveryJobData, type TriggerMaintenanceJobName } from "@nagent/queue";
import { maintenanceJob, startMaintenance, type MaintenanceJob } from "./maintenance";
import { createConnectionPoller, createConnectionStatusCatchUp, createDeliveryProcessor, createDeliveryProducer, createDeliverySweeper, DELIVERY_RETRY_DELAYS_MS, type AttemptOutcome } from "@nagent/triggers";

/** Options tests shorten. */
export interface TriggerWorkerOptions {
  /** Delays between delivery attempts (default DELIVERY_RETRY_DELAYS_MS, about three days). */
  readonly schedule?: readonly number[];
  /** A subscription failing this long without a success is disabled (default 3 days). */
  readonly disableAfterMs?: number;
  /** A pending delivery overdue this long is re-enqueued by the sweeper (default 60 s). */
  readonly sweepOverdueMs?: number;
  readonly sweepEveryMs?: number;
  readonly pollEveryMs?: number;
  /** How often the NAGENT_CONNECTION_STATUS_CHANGED catch-up runs (default 30 s). */
  readonly connectionEventsEveryMs?: number;
  /** The catch-up leaves transitions younger than this to their process's emitter (default 10 s). */
  readonly connectionEventsGraceMs?: number;
  /** BullMQ lock of a delivery job: a killed worker's delivery is taken over after about this long (default NAGENT_WORKER_LOCK_MS). */
  readonly lockMs?: number;
}

/** What every worker of this app is built from (the composition root, main.ts, makes them once). */
export interface WorkerServices {
  readonly config: Config;
  readonly pool: pg.Pool;
  /** A worker-role Redis connection (maxRetriesPerRequest: null); BullMQ duplicates it for blocking commands. */
  readonly redis: Redis;
  readonly registry: Registry;
  readonly vault: Vault;
  readonly runner: Runner;
  readonly logger: Logger;
}

export interface TriggerWorkerDeps extends WorkerServices {
  readonly options?: TriggerWorkerOptions;
  /** Called once per delivery attempt (metrics). */
  readonly onAttempt?: (outcome: AttemptOutcome, lagMs: number | null) => void;
  /** Called per event the poller, the catch-up and the delivery processor (NAGENT_SUBSCRIPTION_DISABLED) stored (metrics). */
  readonly onEvent?: (trigger: string, source: string) => void;
}

/**
 * The trigger workers: deliveries on their own queue (so a slow subscriber never holds up runs), and the upkeep
 * queue that sweeps lost deliveries and polls connections set to `events: "poll"`.
 */
export async function startTriggerWorkers(deps: TriggerWorkerDeps) {
  const { config, logger } = deps;
  const prefix = config.queuePrefix;
  const options = deps.options ?? {};
  const producer = createDeliveryProducer({ redis: deps.redis, prefix });
  const process = createDeliveryProcessor({
    pool: deps.pool, vault: deps.vault, producer, egress: config.egress, logger,
    timeoutMs: config.triggerDeliveryTimeoutMs,
    schedule: options.schedule ?? DELIVERY_RETRY_DELAYS_MS,
    disableAfterMs: options.disableAfterMs ?? 3 * 24 * 3600_000,
    matcher: deps.registry,
    ...(deps.onAttempt ? { onAttempt: deps.onAttempt } : {}),
    ...(deps.onEvent ? { onEvent: deps.onEvent } : {}),
  });
  // NAGENT_WORKER_LOCK_MS, as for runs: a killed worker's delivery is sent again by another worker after about this long.
  const lockDuration = options.lockMs ?? config.workerLockMs;
  const deliveries = new Worker<TriggerDeliveryJobData>(TRIGGER_DELIVERIES_QUEUE, (job) => process(job.data), {
    connection: deps.redis, prefix, concurrency: 64, lockDuration, stalledInterval: Math.min(30_000, lockDuration), maxStalledCount: 5,
  });
  deliveries.on("failed", (job, err) => logger.error({ deliveryId: job?.data.deliveryId, err: { message: err.message } }, "delivery job failed in the processor"));
  deliveries.on("error", (err) => logger.error({ err: { message: err.message } }, "delivery worker error"));

  const sweep = createDeliverySweeper({ pool: deps.pool, producer, overdueMs: options.sweepOverdueMs ?? 60_000 });
  const poll = createConnectionPoller({
    pool: deps.pool, vault: deps.vault, runner: deps.runner, runSpec: (slug) => deps.registry.getRunSpec(slug),
    defaultBaseUrl: config.scaleBaseUrl, matcher: deps.registry, producer, logger,
    ...(deps.onEvent ? { onEvent: deps.onEvent } : {}),
  });
  // Transitions whose NAGENT_CONNECTION_STATUS_CHANGED event was never emitted (the process died right after the
  // transition committed): emitted here, keyed by the connection_event id so a late duplicate stores nothing.
  const catchUpConnectionEvents = createConnectionStatusCatchUp({
    pool: deps.pool, matcher: deps.registry, producer, logger,
    ...(deps.onEvent ? { onEvent: deps.onEvent } : {}),
    options: { graceMs: options.connectionEventsGraceMs ?? 10_000 },
  });
  const { queue: maintenanceQueue, worker: maintenance } = await startMaintenance(
    { queue: TRIGGER_MAINTENANCE_QUEUE, redis: deps.redis, prefix, logger, label: "trigger maintenance" },
    {
      "sweep-deliveries": maintenanceJob({
        everyMs: options.sweepEveryMs ?? TRIGGER_MAINTENANCE_SCHEDULES["sweep-deliveries"].everyMs,
        run: sweep,
        logLine: (r) => (r.requeued > 0 ? "lost deliveries re-enqueued" : undefined),
      }),
      "poll-connections": maintenanceJob({
        everyMs: options.pollEveryMs ?? config.triggerPollMs,
        run: poll,
        logLine: (r) => (r.events > 0 || r.failed > 0 ? "connections polled" : undefined),
      }),
      "emit-connection-events": maintenanceJob({
        everyMs: options.connectionEventsEveryMs ?? TRIGGER_MAINTENANCE_SCHEDULES["emit-connection-events"].everyMs,
        run: catchUpConnectionEvents,
        logLine: (r) => (r.emitted > 0 ? "missed connection status events emitted" : undefined),
      }),
    } satisfies Record<TriggerMaintenanceJobName, MaintenanceJob<unknown>>,
  );
  await Promise.all([deliveries.waitUntilReady(), maintenance.waitUntilReady()]);

  return {
    deliveries,
    sweep,
    poll,
    /** One NAGENT_CONNECTION_STATUS_CHANGED catch-up round now (tests; the schedule runs it too). */
    catchUpConnectionEvents,
    async close(): Promise<void> {
      await Promise.all([deliveries.close(), maintenance.close()]);
      await Promise.all([producer.close(), maintenanceQueue.close()]);
    },
  };
}
