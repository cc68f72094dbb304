import { Queue, Worker } from "bullmq";
import type { Redis } from "ioredis";
import type { Logger } from "@nagent/logger";

/** One repeated maintenance job: how often it runs, what it does, and what its result is worth logging as. */
export interface MaintenanceJob<R> {
  readonly everyMs: number;
  run(): Promise<R>;
  /** The info line for a result, or `undefined` when it did nothing worth a line (the result is logged with it). */
  logLine(result: R): string | undefined;
}

/** `job`, typed: its `logLine` takes what its `run` resolves to. */
export function maintenanceJob<R>(job: MaintenanceJob<R>): MaintenanceJob<R> {
  return job;
}

/**
 * A maintenance queue with one job scheduler per job (`every` its `everyMs`) and one worker (concurrency 1) that
 * runs each job by name. The caller closes the worker and the queue in the order its shutdown needs.
 */
export async function startMaintenance<N extends string>(
  deps: { readonly queue: string; readonly redis: Redis; readonly prefix: string; readonly logger: Logger; readonly label: string },
  jobs: Readonly<Record<N, MaintenanceJob<unknown>>>,
): Promise<{ readonly queue: Queue; readonly worker: Worker }> {
  const { logger } = deps;
  const queue = new Queue(deps.queue, { connection: deps.redis, prefix: deps.prefix });
  for (const [name, job] of Object.entries<MaintenanceJob<unknown>>(jobs)) {
    await queue.upsertJobScheduler(name, { every: job.everyMs }, { name, opts: { removeOnComplete: true, removeOnFail: 100 } });
  }
  const worker = new Worker(deps.queue, async (bullJob) => {
    if (!Object.hasOwn(jobs, bullJob.name)) return undefined;
    const job = jobs[bullJob.name as N];
    const result = await job.run();
    const line = job.logLine(result);
    if (line !== undefined) logger.info(result, line);
    return result;
  }, { connection: deps.redis, prefix: deps.prefix, concurrency: 1 });
  worker.on("error", (err) => logger.error({ err: { message: err.message } }, `${deps.label} worker error`));
  return { queue, worker };
}
