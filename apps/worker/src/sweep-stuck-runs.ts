import type { Logger } from "@nagent/logger";
import type { RunProducer } from "@nagent/queue";
import type { RunStore } from "@nagent/runs";

export interface SweepOptions {
  /** A queued run whose job has not touched it for this long may have lost its enqueue. */
  readonly queuedForMs: number;
  /** A running run untouched for this long lost its worker (longer than an attempt can take, lock included). */
  readonly runningForMs: number;
  readonly batch: number;
}

/**
 * How long a run stays `running` untouched before the sweeper takes it for lost: three job locks (a worker's job
 * whose lock BullMQ could not hand on), and never less than the longest an API's inline attempt of a sync execute can
 * take (apps/api/src/services/execute-action.ts). That attempt has no job to say it is alive: the sweeper would queue
 * its run and a worker would start a second attempt beside it. It lasts at most two upstream calls (the call, and the
 * lookup after a 409 of its own), plus its statements; a short NAGENT_WORKER_LOCK_MS must not shorten that.
 */
export function runningThresholdMs(lockDurationMs: number, upstreamTimeoutMs: number): number {
  return Math.max(lockDurationMs * 3, upstreamTimeoutMs * 2 + 30_000);
}

/**
 * Nothing lost: finds runs left queued (the enqueue after commit failed) or running (the worker died and BullMQ's
 * stalled-job check could not recover it, e.g. Redis lost the job) and enqueues them again. A run whose job, or the
 * batch job it waits in, still exists is left to it; the claim of a re-enqueued run is guarded (only the job that
 * holds a running run takes it over, and the sweeper hands it to the job it adds), so a run still ends exactly once.
 */
export function createStuckRunSweeper(deps: { store: RunStore; producer: RunProducer; logger: Logger; options: SweepOptions }) {
  return async function sweep(): Promise<{ examined: number; requeued: number; abandoned: number }> {
    const stuck = await deps.store.findStuck({ queuedForMs: deps.options.queuedForMs, runningForMs: deps.options.runningForMs, limit: deps.options.batch });
    let requeued = 0;
    let abandoned = 0;
    for (const run of stuck) {
      if (!run.connection_id) {
        if (await deps.store.abandon(run.id, { code: "CONNECTION_NOT_FOUND", message: "The run has no connection." })) abandoned++;
        continue;
      }
      // Touched (and, running, handed over to the job about to be added) before the add: that job may start at once.
      const result = await deps.producer.reenqueue({ runId: run.id, workspaceId: run.workspace_id, connectionId: run.connection_id }, () => deps.store.touch(run.id));
      if (result === "added") {
        requeued++;
        deps.logger.warn({ runId: run.id, status: run.status }, "re-enqueued a run whose job was lost");
      }
    }
    return { examined: stuck.length, requeued, abandoned };
  };
}
