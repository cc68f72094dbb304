import type { JobsOptions } from "bullmq";

/**
 * The queue catalogue: every queue and job kind of the platform, with its payload and policy, in one place
 * (trigger.dev's habit). Payloads carry ids only, never credentials or inputs (those stay in PostgreSQL).
 */

/** Runs of actions. Job id = run id, so an enqueue repeated by the sweeper is a no-op while the job exists. */
export const RUNS_QUEUE = "runs";
/** Periodic upkeep: the stuck-run sweeper, run-history retention and the connection health probe. */
export const MAINTENANCE_QUEUE = "maintenance";

export interface RunJobData {
  readonly runId: string;
  readonly workspaceId: string;
  /** For the connection's rate limit, checked before the run is claimed. */
  readonly connectionId: string;
}

export const RUN_JOB_NAME = "run";

/**
 * Planned retries (upstream 429/5xx/timeouts) and waits (rate limit, workspace cap) move the job to the delayed set
 * themselves and do not count here; `attempts` only covers unexpected failures of the processor itself (PostgreSQL
 * briefly unavailable, a bug), retried with exponential backoff.
 */
export const RUN_JOB_OPTIONS: JobsOptions = {
  attempts: 5,
  backoff: { type: "exponential", delay: 1_000 },
  removeOnComplete: true,
  removeOnFail: { age: 7 * 24 * 3600, count: 10_000 },
};

export type MaintenanceJobName = "sweep-stuck-runs" | "delete-expired-runs" | "probe-connections";

/** Maintenance schedules (BullMQ job schedulers, upserted at worker start so every worker agrees). */
export const MAINTENANCE_SCHEDULES: Readonly<Record<MaintenanceJobName, { readonly everyMs: number }>> = {
  "sweep-stuck-runs": { everyMs: 15_000 },
  "delete-expired-runs": { everyMs: 10 * 60_000 },
  // Re-tests degraded and invalid connections that are due (each has its own backoff, see probe-connections.ts).
  "probe-connections": { everyMs: 15_000 },
};

/**
 * Trigger deliveries (issue 12): one job per attempt of a delivery, job id `<deliveryId>-<attempt>`, so an enqueue
 * repeated by the delivery sweeper is a no-op while that attempt's job exists, and a worker killed mid-send leaves a
 * stalled job that BullMQ hands to another worker (same delivery, same `webhook-id`). Planned retries are new jobs
 * with a delay (the schedule lives in @nagent/triggers); `attempts` only covers failures of the processor itself.
 */
export const TRIGGER_DELIVERIES_QUEUE = "trigger-deliveries";
export const TRIGGER_DELIVERY_JOB_NAME = "deliver";

export interface TriggerDeliveryJobData {
  readonly deliveryId: string;
  readonly workspaceId: string;
  /** The attempt this job makes (attempts_count + 1 when it was enqueued); a stale job sees a different count and ends. */
  readonly attempt: number;
}

export const TRIGGER_DELIVERY_JOB_OPTIONS: JobsOptions = {
  attempts: 5,
  backoff: { type: "exponential", delay: 2_000 },
  removeOnComplete: true,
  removeOnFail: { age: 7 * 24 * 3600, count: 10_000 },
};

/**
 * Trigger upkeep: the delivery sweeper (deliveries whose job was lost), the polling of `events: "poll"` connections,
 * and the catch-up of NAGENT_CONNECTION_STATUS_CHANGED events (connection transitions whose event was never emitted).
 */
export const TRIGGER_MAINTENANCE_QUEUE = "trigger-maintenance";
export type TriggerMaintenanceJobName = "sweep-deliveries" | "poll-connections" | "emit-connection-events";
export const TRIGGER_MAINTENANCE_SCHEDULES: Readonly<Record<TriggerMaintenanceJobName, { readonly everyMs: number }>> = {
  "sweep-deliveries": { everyMs: 15_000 },
  "poll-connections": { everyMs: 30_000 },
  "emit-connection-events": { everyMs: 30_000 },
};
