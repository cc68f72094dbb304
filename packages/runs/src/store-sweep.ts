import type { NamedQuery } from "./named-query";
import type { Envelope, StuckRun } from "./types";
import { LIVE_RUN, notify, statusIn } from "./sql-fragments";
import { compactEndedInput } from "./store-transitions";

/** What the worker's stuck-run sweeper uses: find runs left behind, mark them looked at, or give up on them. */
export function createRunSweep(query: NamedQuery) {
  return {
    /**
     * Runs left queued (their enqueue lost) or running (their worker lost) longer than the thresholds. Read from the
     * live runs' partial index (`finished_at IS NULL`): it holds queued and running runs only, so the sweep reads the
     * platform's live runs, never its history. (No index holds status or updated_at: a run's claim stays a HOT update,
     * migration 20261207120000_run_hot_updates.)
     */
    async findStuck(options: { queuedForMs: number; runningForMs: number; limit: number }): Promise<StuckRun[]> {
      const { rows } = await query<StuckRun>("run-find-stuck",
        `(SELECT id, workspace_id, connection_id, status FROM run
          WHERE ${LIVE_RUN} AND status = 'queued' AND updated_at < now() - make_interval(secs => $1::double precision / 1000)
            AND (next_attempt_at IS NULL OR next_attempt_at < now() - make_interval(secs => $1::double precision / 1000))
          ORDER BY updated_at LIMIT $3)
         UNION ALL
         (SELECT id, workspace_id, connection_id, status FROM run
          WHERE ${LIVE_RUN} AND status = 'running' AND updated_at < now() - make_interval(secs => $2::double precision / 1000)
          ORDER BY updated_at LIMIT $3)`,
        [options.queuedForMs, options.runningForMs, options.limit],
      );
      return rows;
    },

    /**
     * Marks a stuck run as looked at, so the sweeper does not re-enqueue it again at once, and hands a running one over
     * to the job the sweeper adds for it (its own id; see CLAIM_RUNS in hot-path.ts): call it before adding that job.
     */
    async touch(id: string): Promise<void> {
      await query("run-touch", `UPDATE run SET updated_at = now(), claimed_by = CASE WHEN status = 'running' THEN id::text ELSE claimed_by END
                                WHERE id = $1 AND ${statusIn("status", "queued", "running")}`, [id]);
    },

    /** Ends a run the platform gave up on (e.g. its job failed beyond recovery), with a platform error. */
    async abandon(id: string, error: { code: string; message: string }): Promise<boolean> {
      const envelope: Envelope = { data: null, error: { ...error, retryable: false }, successful: false };
      const { rowCount } = await query("run-abandon",
        `WITH prev AS (
           SELECT id, status, attempts_count, attempt_started_at FROM run WHERE id = $1 AND ${statusIn("status", "queued", "running")} FOR UPDATE
         ), fin AS (
           UPDATE run r SET status = 'failed', output = $3, error_code = $2, finished_at = now(), updated_at = now(), status_reason = NULL, next_attempt_at = NULL, waiting = NULL,
                  sealed_input = NULL
           FROM prev WHERE r.id = prev.id
           RETURNING r.id, r.workspace_id, r.status, r.attempts_count, r.action, r.integration, r.error_code, r.waiting
         ), att AS (
           INSERT INTO run_attempt (run_id, number, started_at, finished_at, outcome, error_code)
           SELECT id, attempts_count, COALESCE(attempt_started_at, now()), now(), 'lost', $2 FROM prev WHERE status = 'running' AND attempts_count > 0
           ON CONFLICT (run_id, number) DO UPDATE SET finished_at = EXCLUDED.finished_at, outcome = EXCLUDED.outcome, error_code = EXCLUDED.error_code
           WHERE run_attempt.finished_at IS NULL
         )
         SELECT ${notify("fin")} FROM fin`,
        [id, error.code, JSON.stringify(envelope)],
      );
      if ((rowCount ?? 0) === 0) return false;
      await compactEndedInput(query, id);
      return true;
    },
  };
}
