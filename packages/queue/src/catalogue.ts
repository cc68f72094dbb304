import type { JobsOptions } from "bullmq";

/**
 * The queue catalogue: every queue and job kind of the platform, with its payload and policy, in one place
 * (trigger.dev's habit). Payloads carry ids only, never credentials or inputs (those stay in PostgreSQL).
 */

/**
 * The policy of a job whose planned retries are not BullMQ's (they are delays or new jobs, see each queue):
 * `attempts` only covers unexpected failures of the processor itself (PostgreSQL briefly unavailable, a bug), retried
 * with exponential backoff from `firstRetryMs`. A completed job goes at once; a failed one stays a week (10,000 at
 * most) for inspection.
 */
function processorRetries(firstRetryMs: number): JobsOptions {
  return { attempts: 5, backoff: { type: "exponential", delay: firstRetryMs }, removeOnComplete: true, removeOnFail: { age: 7 * 24 * 3600, count: 10_000 } };
}

/** Upkeep schedules (BullMQ job schedulers, upserted at worker start so every worker agrees), per job name. */
type Schedules<JobName extends string> = Readonly<Record<JobName, { readonly everyMs: number }>>;

/**
 * Runs of actions. A one-run job's id is its run's id, so an enqueue repeated by the sweeper is a no-op while the job
 * exists; a batch's is `batch-<first run id>` (RUN_BATCH_JOB_NAME).
 */
export const RUNS_QUEUE = "runs";
export const RUN_JOB_NAME = "run";
export interface RunJobData {
  readonly runId: string;
  readonly workspaceId: string;
  /** For the connection's rate limit, checked before the run is claimed. */
  readonly connectionId: string;
  /** A sync execute waits on the run: its steps take the express lane of every batch (see Lane in @nagent/batch). */
  readonly sync?: true;
}
/** Planned retries (upstream 429/5xx/timeouts) and waits (rate limit, workspace cap) move the job to the delayed set. */
export const RUN_JOB_OPTIONS: JobsOptions = processorRetries(1_000);
/**
 * Async runs of one workspace enqueued together (issue 17): one job, id `batch-<its first run's id>`, for up to
 * NAGENT_RUN_BATCH_MAX runs. BullMQ's own work per job (add, fetch, lock, complete) is then shared by the batch's runs;
 * measured, it was the largest single cost of an async run. Each run of the batch is admitted, claimed and ended on
 * its own, as a one-run job's is; a run that must wait (a planned retry, the workspace's cap, the connection's pace)
 * leaves the batch for a job of its own (job id = run id). The producer records in Redis which batch each run waits in,
 * for the stuck-run sweeper; the claim records which job holds a run (see CLAIM_RUNS in @nagent/runs).
 */
export const RUN_BATCH_JOB_NAME = "runs";
export interface RunBatchJobData {
  readonly runs: readonly RunJobData[];
}
/** What a job of the runs queue carries: one run, or a batch of runs. */
export type RunsQueueJobData = RunJobData | RunBatchJobData;
export const isRunBatch = (data: RunsQueueJobData): data is RunBatchJobData => "runs" in data;

/** Periodic upkeep: the stuck-run sweeper, run-history retention and the connection health probe. */
export const MAINTENANCE_QUEUE = "maintenance";
export type MaintenanceJobName = "sweep-stuck-runs" | "delete-expired-runs" | "probe-connections";
export const MAINTENANCE_SCHEDULES: Schedules<MaintenanceJobName> = {
  "sweep-stuck-runs": { everyMs: 15_000 },
  "delete-expired-runs": { everyMs: 10 * 60_000 },
  // Re-tests degraded and invalid connections that are due (each has its own backoff, see probe-connections.ts).
  "probe-connections": { everyMs: 15_000 },
};

/**
 * Trigger deliveries (issue 12): one job per attempt of a delivery, job id `<deliveryId>-<attempt>`, so an enqueue
 * repeated by the delivery sweeper is a no-op while that attempt's job exists, and a worker killed mid-send leaves a
 * stalled job that BullMQ hands to another worker (same delivery, same `webhook-id`).
 */
export const TRIGGER_DELIVERIES_QUEUE = "trigger-deliveries";
export const TRIGGER_DELIVERY_JOB_NAME = "deliver";
export interface TriggerDeliveryJobData {
  readonly deliveryId: string;
  readonly workspaceId: string;
  /** The attempt this job makes (attempts_count + 1 when it was enqueued); a stale job sees a different count and ends. */
  readonly attempt: number;
}
/** Planned retries are new jobs with a delay (the schedule lives in @nagent/triggers). */
export const TRIGGER_DELIVERY_JOB_OPTIONS: JobsOptions = processorRetries(2_000);

/**
 * Trigger upkeep: the delivery sweeper (deliveries whose job was lost), the polling of `events: "poll"` connections,
 * and the catch-up of NAGENT_CONNECTION_STATUS_CHANGED events (connection transitions whose event was never emitted).
 */
export const TRIGGER_MAINTENANCE_QUEUE = "trigger-maintenance";
export type TriggerMaintenanceJobName = "sweep-deliveries" | "poll-connections" | "emit-connection-events";
export const TRIGGER_MAINTENANCE_SCHEDULES: Schedules<TriggerMaintenanceJobName> = {
  "sweep-deliveries": { everyMs: 15_000 },
  "poll-connections": { everyMs: 30_000 },
  "emit-connection-events": { everyMs: 30_000 },
};
