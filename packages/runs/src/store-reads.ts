import type { NamedQuery } from "./named-query";
import type { AttemptRow, RunRow } from "./types";
import { LIVE_RUN, statusIn } from "./sql-fragments";

/** How long an Idempotency-Key binds its request (Stripe: 24 hours). */
export const IDEMPOTENCY_WINDOW_HOURS = 24;

/** The run store's reads for the API: a run, its attempts, its place in the queue, the run an Idempotency-Key holds. */
export function createRunReads(query: NamedQuery) {
  return {
    /**
     * The run an Idempotency-Key is bound to in the workspace within the window; a binding older than the window is
     * released in the same statement, so the key can bind a new run.
     */
    async findByIdempotencyKey(workspaceId: string, key: string): Promise<RunRow | null> {
      const { rows } = await query<RunRow>("run-by-idempotency-key",
        `WITH stale AS (
           UPDATE run SET idempotency_key = NULL
           WHERE workspace_id = $1 AND idempotency_key = $2 AND created_at < now() - interval '${IDEMPOTENCY_WINDOW_HOURS} hours'
         )
         SELECT * FROM run WHERE workspace_id = $1 AND idempotency_key = $2 AND created_at >= now() - interval '${IDEMPOTENCY_WINDOW_HOURS} hours'`,
        [workspaceId, key],
      );
      return rows[0] ?? null;
    },

    async get(workspaceId: string, id: string): Promise<RunRow | null> {
      const { rows } = await query<RunRow>("run-get", `SELECT * FROM run WHERE id = $1 AND workspace_id = $2`, [id, workspaceId]);
      return rows[0] ?? null;
    },

    async attempts(workspaceId: string, id: string): Promise<AttemptRow[]> {
      const { rows } = await query<AttemptRow>("run-attempts",
        `SELECT a.number, a.started_at, a.finished_at, a.outcome, a.upstream_status, a.latency_ms, a.error_code, a.error_message, a.retry_delay_ms
         FROM run_attempt a JOIN run r ON r.id = a.run_id
         WHERE a.run_id = $1 AND r.workspace_id = $2
         UNION ALL
         -- The attempt in flight has no row until it ends: show it from the run.
         SELECT r.attempts_count, r.attempt_started_at, NULL, NULL, NULL, NULL, NULL, NULL, NULL
         FROM run r
         WHERE r.id = $1 AND r.workspace_id = $2 AND ${statusIn("r.status", "running")} AND r.attempt_started_at IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM run_attempt x WHERE x.run_id = r.id AND x.number = r.attempts_count)
         ORDER BY 1`,
        [id, workspaceId],
      );
      return rows;
    },

    /**
     * A queued run's rank among its workspace's queued runs, oldest first (1 = next in line). Counted on the live runs'
     * index (`finished_at IS NULL`: queued and running runs only), not on the workspace's whole history.
     */
    async queuePosition(workspaceId: string, run: { id: string; created_at: Date }): Promise<number> {
      const { rows } = await query<{ n: number }>("run-queue-position",
        `SELECT count(*)::int + 1 AS n FROM run WHERE workspace_id = $1 AND ${LIVE_RUN} AND status = 'queued' AND (created_at, id) < ($2, $3::uuid)`,
        [workspaceId, run.created_at, run.id]);
      return rows[0]?.n ?? 1;
    },
  };
}
