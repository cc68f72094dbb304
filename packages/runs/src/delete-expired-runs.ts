import type pg from "pg";
import { ENDED_RUN } from "./sql-fragments";

export interface DeleteExpiredRunsOptions {
  /** NAGENT_RUN_RETENTION_DAYS: a run is deleted this many days after it ended. */
  readonly retentionDays: number;
  /** Runs per DELETE statement (each its own short transaction). Default 1,000. */
  readonly batchSize?: number;
  /** Pause between two batches, so the deletion never holds the table's write path or I/O for long. Default 100 ms. */
  readonly pauseMs?: number;
  /** Bounds on the work of one call: at most this many batches, started within this time; the next call continues.
   *  Defaults 200 and 20 s, so a backlog never holds the (single-slot) maintenance worker from sweeping for long. */
  readonly maxBatches?: number;
  readonly maxDurationMs?: number;
  /** Stops between batches (worker shutdown). */
  readonly signal?: AbortSignal;
}

export interface DeleteExpiredRunsResult {
  readonly deleted: number;
  readonly batches: number;
  /** True when the last batch found fewer expired runs than it could take: nothing is left for now. */
  readonly complete: boolean;
}

/**
 * Retention: deletes runs (and, by the foreign key's cascade, their attempts) that ended more than `retentionDays`
 * ago, in every workspace, in small batches. Runs not yet ended (queued, running) are never deleted, however old.
 *
 * An ended run has `finished_at` (the CHECK constraint run_finished_check), and the partial `(finished_at) WHERE
 * finished_at IS NOT NULL` index finds the old ones: it holds ended runs only, and takes its one entry per run in the
 * finish, which writes a new index entry anyway (migration 20261207120000_run_hot_updates). The run must also be
 * unchanged since (`updated_at`): a run reconciled later is kept as long after the reconciliation as any other after
 * its end. Each batch is one statement in its own transaction, locking only the rows it deletes (SKIP LOCKED: two
 * workers never wait on each other); the work of a call is bounded in batches and time.
 */
export async function deleteExpiredRuns(pool: pg.Pool, options: DeleteExpiredRunsOptions): Promise<DeleteExpiredRunsResult> {
  const batchSize = options.batchSize ?? 1_000;
  const pauseMs = options.pauseMs ?? 100;
  const maxBatches = options.maxBatches ?? 200;
  const deadline = Date.now() + (options.maxDurationMs ?? 20_000);
  if (!Number.isInteger(options.retentionDays) || options.retentionDays < 1) throw new Error("retentionDays must be a positive integer");
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000) throw new Error("batchSize must be 1–10000");

  let deleted = 0;
  let batches = 0;
  while (batches < maxBatches && Date.now() < deadline && !options.signal?.aborted) {
    if (batches > 0) await pause(pauseMs, options.signal);
    if (options.signal?.aborted) break;
    const { rowCount } = await pool.query(
      `DELETE FROM run WHERE id IN (
         SELECT id FROM run
         WHERE ${ENDED_RUN} AND finished_at < now() - make_interval(days => $1) AND updated_at < now() - make_interval(days => $1)
         LIMIT $2
         FOR UPDATE SKIP LOCKED
       )`,
      [options.retentionDays, batchSize],
    );
    batches++;
    deleted += rowCount ?? 0;
    if ((rowCount ?? 0) < batchSize) return { deleted, batches, complete: true };
  }
  return { deleted, batches, complete: false };
}

function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
  });
}
