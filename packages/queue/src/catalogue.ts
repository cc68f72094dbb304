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
