import { DelayedError, type Job } from "bullmq";
import type { RunAttempts } from "@nagent/attempts";
import type { RunJobData } from "@nagent/queue";

/**
 * The run processor: one attempt of one run per job execution (admit, claim, call, finish: @nagent/attempts).
 *
 * Waits (workspace cap, connection pace, planned retries) move the job to BullMQ's delayed set and free the worker at
 * once; the run row records why it waits. A job whose run is already over (canceled, or ended by an earlier job or by
 * the API's inline attempt) does nothing.
 */
export function createRunProcessor(attempts: RunAttempts) {
  /**
   * Moves the job to BullMQ's delayed set. BullMQ's contract for a processor that moved its own job: throw
   * `DelayedError`, so that the worker neither completes nor fails it. The only throw of this sequence, at its edge.
   */
  async function delayJob(job: Job<RunJobData>, token: string | undefined, ms: number): Promise<never> {
    await job.moveToDelayed(Date.now() + ms, token);
    throw new DelayedError();
  }

  return async function processRun(job: Job<RunJobData>, token?: string): Promise<void> {
    const admission = await attempts.admit(job.data);
    if (!admission.admitted) return delayJob(job, token, await attempts.noteWaiting(job.data, admission));
    const { retryInMs } = await attempts.run(job.data);
    if (retryInMs !== null) await delayJob(job, token, retryInMs);
  };
}
