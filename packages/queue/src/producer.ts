import { Queue } from "bullmq";
import { createLanedBatcher, type Lane } from "@nagent/batch";
import type { Redis } from "ioredis";
import { RUN_BATCH_JOB_NAME, RUN_JOB_NAME, RUN_JOB_OPTIONS, RUNS_QUEUE, type RunBatchJobData, type RunJobData, type RunsQueueJobData } from "./catalogue";
import type { Fairness } from "./fairness";

/** Runs per batch job unless configured (NAGENT_RUN_BATCH_MAX; 1 = one job per run). */
export const DEFAULT_RUN_BATCH_MAX = 50;

/** A job state in which the job will still run (or is running). */
const LIVE_STATES = new Set(["waiting", "waiting-children", "delayed", "prioritized", "active"]);
/** A job state in which the job has not started (a cancel may remove it). */
const NOT_STARTED_STATES = new Set(["waiting", "delayed", "prioritized"]);

interface Enqueued {
  readonly run: RunJobData;
  readonly priority: number;
  readonly delayMs: number;
}

/**
 * Enqueues runs. Called after the run's row is committed (never inside a transaction); if Redis is down the call
 * fails fast and the run stays queued in PostgreSQL until the sweeper enqueues it.
 *
 * Concurrent calls share round trips, and async runs share jobs: the async runs of one workspace that asked meanwhile,
 * with no delay, go in one batch job (RUN_BATCH_JOB_NAME, up to `batchMax` runs) on the best priority among them. A
 * sync execute's run, a delayed one and a lone one get a job of their own (job id = run id). Before a batch is added,
 * the hash `<prefix>:runs:batched` records which batch each of its runs waits in (run id → job id), so that the
 * sweeper does not take a run still waiting in its batch for lost; the worker deletes the entries once the batch is done.
 */
export function createRunProducer(deps: { redis: Redis; prefix: string; fairness: Fairness; batchMax?: number }) {
  const queue = new Queue<RunsQueueJobData>(RUNS_QUEUE, { connection: deps.redis, prefix: deps.prefix });
  const batchMax = deps.batchMax ?? DEFAULT_RUN_BATCH_MAX;
  const batchedKey = `${deps.prefix}:${RUNS_QUEUE}:batched`;
  // One script ranks every run that asked meanwhile. A batch has one lane: its runs all get the express priority, or
  // all the fair one (see prioritiesFor).
  const rankBatcher = createLanedBatcher<string, number>((workspaceIds, lane) => deps.fairness.prioritiesFor(workspaceIds, lane), { maxBatch: 200, maxConcurrent: 1 });
  const options = ({ run, priority, delayMs }: Enqueued) => ({ ...RUN_JOB_OPTIONS, jobId: run.runId, priority, ...(delayMs > 0 ? { delay: delayMs } : {}) });
  const addBatcher = createLanedBatcher<Enqueued, void>(async (items, lane) => {
    const { batches, singles } = lane === "bulk" && batchMax > 1 ? groupIntoBatches(items, batchMax) : { batches: [], singles: items };
    const jobs = [
      ...batches.map((batch) => ({
        name: RUN_BATCH_JOB_NAME,
        data: { runs: batch.map((i) => i.run) } satisfies RunBatchJobData,
        opts: { ...RUN_JOB_OPTIONS, jobId: batchJobId(batch[0]!.run), priority: Math.min(...batch.map((i) => i.priority)) },
      })),
      ...singles.map((item) => ({ name: RUN_JOB_NAME, data: item.run, opts: options(item) })),
    ];
    if (batches.length > 0) {
      await deps.redis.hset(batchedKey, Object.fromEntries(batches.flatMap((batch) => batch.map((i) => [i.run.runId, batchJobId(batch[0]!.run)]))));
    }
    // A lone job goes through add(), which costs less than addBulk's MULTI (the usual case at low load).
    if (jobs.length === 1) await queue.add(jobs[0]!.name, jobs[0]!.data, jobs[0]!.opts);
    else await queue.addBulk(jobs);
    return items.map(() => undefined);
  }, { maxBatch: 200, maxConcurrent: 1 });

  /** A job and its BullMQ state, or null when there is no such job. */
  async function find(jobId: string) {
    const job = await queue.getJob(jobId);
    return job ? { job, state: await job.getState() } : null;
  }

  /** Whether the job exists and will still run; a job that ended (failed for good) is removed, so it can be added again. */
  async function live(jobId: string, removeEnded: boolean): Promise<boolean> {
    const found = await find(jobId);
    if (!found) return false;
    if (LIVE_STATES.has(found.state)) return true;
    if (removeEnded) await found.job.remove().catch(() => {});
    return false;
  }

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
     * Adds the run's job, or puts the run in a batch job (see above). Call only after the run's row is committed.
     * `delayMs`: the run's job waits that long first (a run whose attempt asked for a retry, or refused admission).
     */
    enqueue(run: RunJobData, priority: number, delayMs = 0): Promise<void> {
      return addBatcher({ run, priority, delayMs }, run.sync ? "express" : "bulk");
    },
    /**
     * Enqueues again a run whose job may be lost: does nothing while the run's own job, or the batch it waits in, will
     * still run (waiting, delayed or active); a job of its own that failed for good is replaced. `beforeAdd` runs just
     * before the job is added (the sweeper hands the run over to that job).
     */
    async reenqueue(run: RunJobData, beforeAdd?: () => Promise<void>): Promise<"added" | "exists"> {
      if (await live(run.runId, true)) return "exists";
      const batchId = await deps.redis.hget(batchedKey, run.runId);
      if (batchId !== null && (await live(batchId, false))) return "exists";
      await beforeAdd?.();
      await queue.add(RUN_JOB_NAME, run, { ...RUN_JOB_OPTIONS, jobId: run.runId });
      return "added";
    },
    /** A batch job is done (each of its runs ended, or left it for a job of its own): its runs' entries go. */
    async batchDone(batch: RunBatchJobData): Promise<void> {
      if (batch.runs.length > 0) await deps.redis.hdel(batchedKey, ...batch.runs.map((r) => r.runId));
    },
    /** Removes a run's job if it has not started (cancel); a no-op otherwise (a run in a batch stays; its claim skips it). */
    async removeIfWaiting(runId: string): Promise<void> {
      const found = await find(runId);
      if (found && NOT_STARTED_STATES.has(found.state)) await found.job.remove().catch(() => {});
    },
    async close(): Promise<void> {
      await queue.close();
    },
  };
}

export type RunProducer = ReturnType<typeof createRunProducer>;

/** A batch job's id: its first run's id, prefixed (one run is in one batch at most). */
const batchJobId = (first: RunJobData) => `batch-${first.runId}`;

/**
 * The items that go in batch jobs: those with no delay, per workspace (the fair ordering ranks a workspace's runs),
 * `max` at most per batch; a workspace with one such item gets no batch. The rest get jobs of their own.
 */
function groupIntoBatches(items: readonly Enqueued[], max: number): { batches: Enqueued[][]; singles: Enqueued[] } {
  const byWorkspace = new Map<string, Enqueued[]>();
  const singles: Enqueued[] = [];
  for (const item of items) {
    if (item.delayMs > 0 || item.run.sync) {
      singles.push(item);
      continue;
    }
    const group = byWorkspace.get(item.run.workspaceId);
    if (group) group.push(item);
    else byWorkspace.set(item.run.workspaceId, [item]);
  }
  const batches: Enqueued[][] = [];
  for (const group of byWorkspace.values()) {
    for (let i = 0; i < group.length; i += max) {
      const batch = group.slice(i, i + max);
      if (batch.length === 1) singles.push(batch[0]!);
      else batches.push(batch);
    }
  }
  return { batches, singles };
}
