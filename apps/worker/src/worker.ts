import { Worker } from "bullmq";
import { createRunStore, deleteExpiredRuns } from "@nagent/runs";
import { createFairness, createRunProducer, MAINTENANCE_QUEUE, MAINTENANCE_SCHEDULES, RUNS_QUEUE, type FairnessOptions, type MaintenanceJobName, type RunsQueueJobData } from "@nagent/queue";
import type { ConnectionTransition } from "@nagent/db";
import { createRunMetricsRecorder } from "@nagent/metrics";
import { createConnectionStatusEmitter, createDeliveryProducer } from "@nagent/triggers";
import { createConnectionHealth, createRunAttempts, type AttemptDeps } from "@nagent/attempts";
import { createRunProcessor } from "./process-run";
import { createStuckRunSweeper, runningThresholdMs } from "./sweep-stuck-runs";
import { maintenanceJob, startMaintenance, type MaintenanceJob } from "./maintenance";
import { startTriggerWorkers, type TriggerWorkerOptions, type WorkerServices } from "./triggers";
import { createConnectionProber, DEFAULT_PROBE_OPTIONS, type ProbeOptions } from "./probe-connections";

export interface WorkerDeps extends WorkerServices {
  /** Called once per run ended here, besides recording the run metrics (which every worker does). */
  readonly onRunFinished?: AttemptDeps["onRunFinished"];
  /** Overrides for tests (e.g. short backoff). */
  readonly backoff?: AttemptDeps["backoff"];
  readonly sweep?: Partial<{ queuedForMs: number; runningForMs: number; everyMs: number }>;
  /** Trigger delivery and polling overrides (tests). */
  readonly triggers?: TriggerWorkerOptions;
  /** The connection health probe: how often it looks for due connections, and each connection's backoff. */
  readonly probe?: Partial<ProbeOptions & { everyMs: number }>;
  /** Adaptive pacing tuning (tests, benchmarks); the start rate is NAGENT_CONNECTION_RATE_PER_SEC. */
  readonly pacing?: FairnessOptions["pacing"];
}

/**
 * Starts the run workers and the maintenance worker (with its schedules). `close()` stops taking jobs and waits for
 * in-flight runs to finish; what does not finish in time is released (BullMQ's stalled-job check hands it to another
 * worker).
 */
export async function startWorkers(deps: WorkerDeps) {
  const { config, logger } = deps;
  const prefix = config.queuePrefix;
  const store = createRunStore(deps.pool);
  // A lease outlives the longest attempt, so a slot is never taken from a run still calling the upstream.
  const fairness = createFairness(deps.redis, {
    prefix,
    workspaceConcurrency: config.workspaceConcurrency,
    connectionRatePerSec: config.connectionRatePerSec,
    ...(deps.pacing ? { pacing: deps.pacing } : {}),
    leaseMs: config.upstreamTimeoutMs * 2 + 10_000,
  });
  const probeOptions: ProbeOptions = {
    batch: deps.probe?.batch ?? DEFAULT_PROBE_OPTIONS.batch,
    baseMs: deps.probe?.baseMs ?? DEFAULT_PROBE_OPTIONS.baseMs,
    capMs: deps.probe?.capMs ?? DEFAULT_PROBE_OPTIONS.capMs,
  };
  const producer = createRunProducer({ redis: deps.redis, prefix, fairness, batchMax: config.runBatchMax });
  // Cluster-wide run metrics in Redis, rendered by the API's GET /metrics. Best effort: the run is already recorded.
  const runMetrics = createRunMetricsRecorder(deps.redis, { prefix });
  const onRunFinished: NonNullable<AttemptDeps["onRunFinished"]> = (run) => {
    runMetrics.runFinished(run).catch((err: Error) => logger.warn({ err: { message: err.message } }, "could not record run metrics"));
    deps.onRunFinished?.(run);
  };
  // Every status transition is counted (nagent_connection_status_transitions_total) and published as the platform
  // trigger NAGENT_CONNECTION_STATUS_CHANGED (what this emission misses, the trigger maintenance catch-up emits).
  const deliveries = createDeliveryProducer({ redis: deps.redis, prefix });
  const emitConnectionStatus = createConnectionStatusEmitter({
    pool: deps.pool, matcher: deps.registry, producer: deliveries, logger,
    onEvent: (trigger, source) => void runMetrics.triggerEvent(trigger, source).catch((err: Error) => logger.warn({ err: { message: err.message } }, "could not record event metrics")),
  });
  const onTransition = (t: ConnectionTransition) => {
    runMetrics.connectionTransition(t).catch((err: Error) => logger.warn({ err: { message: err.message } }, "could not record a connection metric"));
    void emitConnectionStatus(t);
  };
  const health = createConnectionHealth({ pool: deps.pool, redis: deps.redis, prefix, logger, firstProbeInMs: probeOptions.baseMs, onTransition });
  const probe = createConnectionProber({
    pool: deps.pool, registry: deps.registry, runner: deps.runner, vault: deps.vault, logger, options: probeOptions,
    defaultBaseUrl: () => config.scaleBaseUrl, onTransition,
  });
  const runsWorker: { current?: Worker<RunsQueueJobData> } = {};
  const processRun = createRunProcessor(createRunAttempts({
    pool: deps.pool, store, registry: deps.registry, vault: deps.vault, runner: deps.runner, fairness, health, logger,
    maxAttempts: config.maxAttempts,
    publicUrl: config.publicUrl,
    ...(deps.backoff ? { backoff: deps.backoff } : {}),
    onRunFinished,
    onOutputChecked: (c) => void runMetrics.outputChecked(c).catch((err: Error) => logger.warn({ err: { message: err.message } }, "could not record run metrics")),
  }), {
    slots: config.workerConcurrency,
    handOff: async (run, priority, delayMs, heldBy) => {
      if (heldBy !== undefined) await store.handOver(run.runId, heldBy);
      await producer.enqueue(run, priority, delayMs);
    },
    batchDone: (batch) => producer.batchDone(batch),
    // The processor starts once the worker below exists.
    onCapacity: (jobs) => {
      if (runsWorker.current) runsWorker.current.concurrency = jobs;
    },
  });

  // BullMQ renews the lock every lockDuration/2 while the job runs. By default it also outlives one attempt (the
  // upstream timeout), so even a worker whose renewals stall keeps its run; a shorter NAGENT_WORKER_LOCK_MS trades
  // that margin for a faster takeover of a dead worker's runs (the stalled check runs every lockDuration).
  const lockDuration = config.workerLockMs;
  const runs = new Worker<RunsQueueJobData>(RUNS_QUEUE, processRun, {
    connection: deps.redis,
    prefix,
    concurrency: config.workerConcurrency,
    lockDuration,
    stalledInterval: Math.min(30_000, lockDuration),
    maxStalledCount: 2,
  });
  runsWorker.current = runs;
  runs.on("failed", (job, err) => {
    logger.error({ jobId: job?.id, attemptsMade: job?.attemptsMade, err: { message: err.message, name: err.name } }, "run job failed in the processor");
  });
  runs.on("error", (err) => logger.error({ err: { message: err.message } }, "run worker error"));

  const sweep = createStuckRunSweeper({
    store, producer, logger,
    options: {
      queuedForMs: deps.sweep?.queuedForMs ?? 30_000,
      runningForMs: deps.sweep?.runningForMs ?? runningThresholdMs(lockDuration, config.upstreamTimeoutMs),
      batch: 500,
    },
  });
  // Aborted by close(): a long retention job stops between two batches instead of holding up the shutdown.
  const stopping = new AbortController();
  const { queue: maintenanceQueue, worker: maintenance } = await startMaintenance(
    { queue: MAINTENANCE_QUEUE, redis: deps.redis, prefix, logger, label: "maintenance" },
    {
      "sweep-stuck-runs": maintenanceJob({
        everyMs: deps.sweep?.everyMs ?? MAINTENANCE_SCHEDULES["sweep-stuck-runs"].everyMs,
        run: sweep,
        logLine: (r) => (r.requeued + r.abandoned > 0 ? "stuck runs swept" : undefined),
      }),
      "delete-expired-runs": maintenanceJob({
        everyMs: MAINTENANCE_SCHEDULES["delete-expired-runs"].everyMs,
        // Batched and bounded (packages/runs/src/delete-expired-runs.ts); what is left waits for the next run.
        run: () => deleteExpiredRuns(deps.pool, { retentionDays: config.runRetentionDays, signal: stopping.signal }),
        logLine: (r) => (r.deleted > 0 ? "expired runs deleted" : undefined),
      }),
      "probe-connections": maintenanceJob({
        everyMs: deps.probe?.everyMs ?? MAINTENANCE_SCHEDULES["probe-connections"].everyMs,
        run: probe,
        logLine: (r) => (r.probed > 0 ? "connections probed" : undefined),
      }),
    } satisfies Record<MaintenanceJobName, MaintenanceJob<unknown>>,
  );

  const triggers = await startTriggerWorkers({
    config, pool: deps.pool, redis: deps.redis, registry: deps.registry, vault: deps.vault, runner: deps.runner, logger,
    ...(deps.triggers ? { options: deps.triggers } : {}),
    onAttempt: (outcome, lagMs) => void runMetrics.deliveryAttempted(outcome, lagMs).catch((err: Error) => logger.warn({ err: { message: err.message } }, "could not record delivery metrics")),
    onEvent: (trigger, source) => void runMetrics.triggerEvent(trigger, source).catch((err: Error) => logger.warn({ err: { message: err.message } }, "could not record event metrics")),
  });
  await Promise.all([runs.waitUntilReady(), maintenance.waitUntilReady()]);
  logger.info({ concurrency: config.workerConcurrency, queue: RUNS_QUEUE }, "workers started");

  return {
    runs,
    sweep,
    triggers,
    /** One round of the connection health probe now (tests; the schedule runs it too). */
    probe,
    fairness,
    /** Stops taking jobs; waits for in-flight runs (the caller bounds how long). */
    async close(): Promise<void> {
      stopping.abort();
      await Promise.all([runs.close(), maintenance.close(), triggers.close()]);
      await emitConnectionStatus.drain();
      await Promise.all([producer.close(), maintenanceQueue.close(), runMetrics.close(), deliveries.close()]);
    },
  };
}
