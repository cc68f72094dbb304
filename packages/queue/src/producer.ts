import { Queue } from "bullmq";
import { createBatcher } from "@nagent/batch";
import type { Redis } from "ioredis";
import { RUN_JOB_NAME, RUN_JOB_OPTIONS, RUNS_QUEUE, type RunJobData } from "./catalogue";
import type { Fairness } from "./fairness";

/**
 * Enqueues runs. Called after the run's row is committed (never inside a transaction); if Redis is down the call
 * fails fast and the run stays queued in PostgreSQL until the sweeper enqueues it.
 */
export function createRunProducer(deps: { redis: Redis; prefix: string; fairness: Fairness }) {
  const queue = new Queue<RunJobData>(RUNS_QUEUE, { connection: deps.redis, prefix: deps.prefix });
  // Concurrent enqueues share two Redis round trips: one script ranks them all, one addBulk adds them all.
  const enqueueOne = createBatcher<RunJobData, void>(async (runs) => {
    const priorities = await deps.fairness.prioritiesFor(runs.map((r) => r.workspaceId));
    await queue.addBulk(runs.map((run, i) => ({ name: RUN_JOB_NAME, data: run, opts: { ...RUN_JOB_OPTIONS, jobId: run.runId, priority: priorities[i]! } })));
    return runs.map(() => undefined);
  }, { maxBatch: 200, maxConcurrent: 1 });
  return {
    queue,
    enqueue: enqueueOne,
    /**
     * Enqueues again a run whose job may be lost. Does nothing while its job exists (waiting, delayed or active); a
     * job that failed for good is replaced.
     */
    async reenqueue(run: RunJobData): Promise<"added" | "exists"> {
      const job = await queue.getJob(run.runId);
      if (job) {
        const state = await job.getState();
        if (state !== "failed" && state !== "completed" && state !== "unknown") return "exists";
        await job.remove().catch(() => {});
      }
      await queue.add(RUN_JOB_NAME, run, { ...RUN_JOB_OPTIONS, jobId: run.runId });
      return "added";
    },
    /** Removes a run's job if it has not started (cancel); a no-op otherwise. */
    async removeIfWaiting(runId: string): Promise<void> {
      const job = await queue.getJob(runId);
      if (!job) return;
      const state = await job.getState();
      if (state === "waiting" || state === "delayed" || state === "prioritized") await job.remove().catch(() => {});
    },
    async close(): Promise<void> {
      await queue.close();
    },
  };
}

export type RunProducer = ReturnType<typeof createRunProducer>;
