import { Queue } from "bullmq";
import { createLanedBatcher, type Lane } from "@nagent/batch";
import type { Redis } from "ioredis";
import { RUN_JOB_NAME, RUN_JOB_OPTIONS, RUNS_QUEUE, type RunJobData } from "./catalogue";
import type { Fairness } from "./fairness";

/**
 * Enqueues runs. Called after the run's row is committed (never inside a transaction); if Redis is down the call
 * fails fast and the run stays queued in PostgreSQL until the sweeper enqueues it.
 */
export function createRunProducer(deps: { redis: Redis; prefix: string; fairness: Fairness }) {
  const queue = new Queue<RunJobData>(RUNS_QUEUE, { connection: deps.redis, prefix: deps.prefix });
  // Concurrent calls share round trips: one script ranks every run that asked meanwhile, one addBulk adds them.
  // A batch has one lane: its runs all get the express priority, or all the fair one (see prioritiesFor).
  const rankBatcher = createLanedBatcher<string, number>((workspaceIds, lane) => deps.fairness.prioritiesFor(workspaceIds, lane), { maxBatch: 200, maxConcurrent: 1 });
  const options = (run: RunJobData, priority: number, delayMs: number) => ({ ...RUN_JOB_OPTIONS, jobId: run.runId, priority, ...(delayMs > 0 ? { delay: delayMs } : {}) });
  const addBatcher = createLanedBatcher<{ run: RunJobData; priority: number; delayMs: number }, void>(async (items) => {
    // A lone job goes through add(), which costs less than addBulk's MULTI (the usual case at low load).
    if (items.length === 1) {
      const { run, priority, delayMs } = items[0]!;
      await queue.add(RUN_JOB_NAME, run, options(run, priority, delayMs));
    } else {
      await queue.addBulk(items.map(({ run, priority, delayMs }) => ({ name: RUN_JOB_NAME, data: run, opts: options(run, priority, delayMs) })));
    }
    return items.map(() => undefined);
  }, { maxBatch: 200, maxConcurrent: 1 });
  return {
    queue,
    /**
     * Counts a new pending run of the workspace and answers its queue priority. Call it while the run's row is being
     * written (it needs no row), then `enqueue` with the answer once the row is committed: the two round trips overlap.
     */
    reserve(workspaceId: string, lane: Lane = "bulk"): Promise<number> {
      return rankBatcher(workspaceId, lane);
    },
    /** Gives back a reservation whose run was not created after all (a replay, no usable connection). */
    async unreserve(workspaceId: string): Promise<void> {
      await deps.fairness.donePending(workspaceId);
    },
    /**
     * Adds the run's job (job id = run id). Call only after the run's row is committed. `delayMs`: the job waits that
     * long first (a sync execute's run whose inline attempt asked for a retry).
     */
    enqueue(run: RunJobData, priority: number, delayMs = 0): Promise<void> {
      return addBatcher({ run, priority, delayMs }, run.sync ? "express" : "bulk");
    },
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
