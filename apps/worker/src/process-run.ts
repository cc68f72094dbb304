import { DelayedError, type Job } from "bullmq";
import type { RunAttempts } from "@nagent/attempts";
import { createSlots } from "@nagent/batch";
import { isRunBatch, type RunBatchJobData, type RunJobData, type RunsQueueJobData } from "@nagent/queue";

export interface RunProcessorOptions {
  /** Runs in flight at once in this worker, whether they came one per job or in batches (NAGENT_WORKER_CONCURRENCY). */
  readonly slots: number;
  /**
   * Gives a run of a batch that must wait a job of its own, delayed by `delayMs`, on the batch's priority. `heldBy`: the
   * batch's job id when the run may still be held by it (a refused admission: the batch, handed to this worker after
   * a crash, may hold the run from before), so that the run's own job may take it over.
   */
  readonly handOff: (run: RunJobData, priority: number, delayMs: number, heldBy?: string) => Promise<void>;
  /** The batch is done: the producer forgets which batch its runs waited in. Best effort. */
  readonly batchDone: (batch: RunBatchJobData) => Promise<void>;
  /**
   * Told the number of jobs the worker should hold at most now (BullMQ's `concurrency`), whenever it changes: the jobs
   * in hand, plus one per free slot. A worker whose slots are all spoken for takes no more jobs, so it never hoards
   * batches whose runs would wait here while other workers (or another workspace's newer, fairer job) could run them.
   */
  readonly onCapacity?: (jobs: number) => void;
}

/**
 * The run processor: one attempt of each run of the job (admit, claim, call, finish: @nagent/attempts).
 *
 * A one-run job (job id = run id): waits (workspace cap, connection pace, planned retries) move the job to BullMQ's
 * delayed set and free the worker at once; the run row records why it waits. A batch job (RUN_BATCH_JOB_NAME): its
 * runs go at once, each in a slot, each claimed under the batch's job id; a run that must wait leaves the batch for a
 * delayed job of its own, and the batch ends when each of its runs ended or left. If an attempt throws (PostgreSQL
 * unavailable, a bug), the batch fails once its other runs are done, and BullMQ runs it again later: its ended runs do
 * nothing then, and a run its failed attempt left `running` is taken over (the same job holds it).
 *
 * A run that is already over (canceled, or ended by an earlier job or by the API's inline attempt), or held by another
 * job, is left alone.
 */
export function createRunProcessor(attempts: RunAttempts, options: RunProcessorOptions) {
  const slots = createSlots(options.slots);
  /** Jobs in hand, and the runs they hold (running, or waiting for a slot). */
  let jobs = 0;
  let held = 0;
  let capacity = options.slots;
  const hold = (jobDelta: number, runDelta: number): void => {
    jobs += jobDelta;
    held += runDelta;
    const next = Math.max(1, jobs + Math.max(0, options.slots - held));
    if (next !== capacity) options.onCapacity?.((capacity = next));
  };

  /**
   * Moves the job to BullMQ's delayed set. BullMQ's contract for a processor that moved its own job: throw
   * `DelayedError`, so that the worker neither completes nor fails it. The only throw of this sequence, at its edge.
   */
  async function delayJob(job: Job<RunsQueueJobData>, token: string | undefined, ms: number): Promise<never> {
    await job.moveToDelayed(Date.now() + ms, token);
    throw new DelayedError();
  }

  /** One attempt of a run of its own job; a wait delays the job itself. */
  async function processOne(job: Job<RunsQueueJobData>, run: RunJobData, token: string | undefined): Promise<void> {
    const admission = await attempts.admit(run);
    if (!admission.admitted) return delayJob(job, token, await attempts.noteWaiting(run, admission));
    const { retryInMs } = await attempts.run(run);
    if (retryInMs !== null) await delayJob(job, token, retryInMs);
  }

  /** One attempt of a run of a batch, held by the batch's job; a wait hands the run a job of its own. */
  async function processInBatch(run: RunJobData, batchJobId: string, priority: number): Promise<void> {
    const admission = await attempts.admit(run);
    if (!admission.admitted) return options.handOff(run, priority, await attempts.noteWaiting(run, admission), batchJobId);
    const { retryInMs } = await attempts.run(run, { holder: batchJobId });
    if (retryInMs !== null) await options.handOff(run, priority, retryInMs);
  }

  return async function processRun(job: Job<RunsQueueJobData>, token?: string): Promise<void> {
    const data = job.data;
    if (!isRunBatch(data)) {
      hold(1, 1);
      try {
        return await slots.run(() => processOne(job, data, token));
      } finally {
        hold(-1, -1);
      }
    }
    hold(1, data.runs.length);
    try {
      const priority = job.opts.priority ?? 0;
      const results = await Promise.allSettled(data.runs.map((run) => slots.run(() => processInBatch(run, job.id!, priority)).finally(() => hold(0, -1))));
      const failure = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
      if (failure) throw failure.reason;
    } finally {
      hold(-1, 0);
      await options.batchDone(data).catch(() => {});
    }
  };
}
