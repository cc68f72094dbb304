import type { NamedQuery } from "./named-query";
import type { AttemptOutcome, Envelope, RunRow, WaitingReason } from "./types";
import { compactJson, STORED_INPUT_MAX_BYTES, STORED_OUTPUT_MAX_BYTES } from "./compact";
import { EVENT_COLUMNS, notify, SMALL_OUTPUT, statusIn } from "./sql-fragments";

/**
 * The `waiting` object built in SQL: the reason, since when (kept while the reason stays the same) and the resume time
 * `delayMs` from now. Reads the row's current `waiting` (an UPDATE's SET sees the old row).
 */
const WAITING_JSON = (reason: string, delayMs: string) =>
  `jsonb_build_object('reason', ${reason}, ` +
  `'since', CASE WHEN waiting->>'reason' = ${reason} THEN waiting->'since' ELSE to_jsonb(to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')) END, ` +
  `'resume_at', to_char((now() + make_interval(secs => ${delayMs}::double precision / 1000)) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))`;

/**
 * Compacts the input of a run that ended without a worker's finish (canceled, abandoned), as `finish` does for the
 * others; returns the updated row, or null when the input was small enough already.
 */
export async function compactEndedInput(query: NamedQuery, id: string): Promise<RunRow | null> {
  const { rows } = await query<{ input: unknown }>("run-large-ended-input",
    `SELECT input FROM run WHERE id = $1 AND ${statusIn("status", "canceled", "failed", "succeeded", "unknown")} AND octet_length(input::text) > $2`,
    [id, STORED_INPUT_MAX_BYTES]);
  if (!rows[0]) return null;
  const compacted = compactJson(rows[0].input, STORED_INPUT_MAX_BYTES);
  const updated = await query<RunRow>("run-compact-input", `UPDATE run SET input = $2, input_truncated = true WHERE id = $1 RETURNING *`,
    [id, compacted.json]);
  return updated.rows[0] ?? null;
}

/** The run's state changes off the hot path: between attempts (worker), and reconcile and cancel (API). */
export function createRunTransitions(query: NamedQuery) {
  return {
    /** Closes a failed attempt that will be retried and puts the run back in the queue with the reason and time. */
    async retryLater(run: { id: string; attempt: number }, outcome: AttemptOutcome & { delayMs: number; reason: string }): Promise<boolean> {
      const { rowCount } = await query("run-retry-later",
        `WITH upd AS (
           UPDATE run SET status = 'queued', status_reason = $8, next_attempt_at = now() + make_interval(secs => $7::double precision / 1000), updated_at = now(),
                  waiting = ${WAITING_JSON("'retry_backoff'", "$7")}
           WHERE id = $1 AND ${statusIn("status", "running")} AND attempts_count = $2
           RETURNING ${EVENT_COLUMNS}, attempt_started_at
         ), att AS (
           INSERT INTO run_attempt (run_id, number, started_at, finished_at, outcome, upstream_status, latency_ms, error_code, error_message, retry_delay_ms)
           SELECT id, $2, COALESCE(attempt_started_at, now()), now(), 'retry', $3, $4, $5, $6, $7 FROM upd
           ON CONFLICT (run_id, number) DO UPDATE SET finished_at = EXCLUDED.finished_at, outcome = EXCLUDED.outcome,
             upstream_status = EXCLUDED.upstream_status, latency_ms = EXCLUDED.latency_ms, error_code = EXCLUDED.error_code,
             error_message = EXCLUDED.error_message, retry_delay_ms = EXCLUDED.retry_delay_ms
         )
         SELECT ${notify("upd", "$8::text")} FROM upd`,
        [run.id, run.attempt, outcome.upstreamStatus, outcome.latencyMs, outcome.errorCode, outcome.errorMessage, outcome.delayMs, outcome.reason],
      );
      return (rowCount ?? 0) > 0;
    },

    /**
     * Hands a run that job `from` holds while it is `running` (the attempt of a worker that died) over to the run's own
     * job, which the caller is about to add: a batch job handed to another worker after a crash, whose run must now
     * wait, leaves it to that job (see CLAIM_RUNS in hot-path.ts). Does nothing to a run in any other state.
     */
    async handOver(id: string, from: string): Promise<void> {
      await query("run-hand-over", `UPDATE run SET claimed_by = id::text WHERE id = $1 AND ${statusIn("status", "running")} AND claimed_by = $2`, [id, from]);
    },

    /**
     * Undoes the claim of a sync execute's run that its insert claimed (`insertClaimed`) before its admission answered,
     * when the admission refused it or Redis did not answer: back to `queued`, no attempt counted or started, held by
     * nobody. Only a run still in that first claim (attempt 1, held under its own id) changes. No run event: as for
     * the claiming insert, nobody can follow the run yet.
     */
    async unclaim(id: string): Promise<void> {
      await query("run-unclaim",
        `UPDATE run SET status = 'queued', attempts_count = 0, started_at = NULL, attempt_started_at = NULL, claimed_by = NULL, updated_at = now()
         WHERE id = $1 AND ${statusIn("status", "running")} AND attempts_count = 1 AND claimed_by = id::text`,
        [id],
      );
    },

    /**
     * Records why a queued run waits (`waiting`: reason, since, resume_at; and the human `status_reason`) without
     * touching its attempts, and tells the run's event stream. Written only when the reason changes or the resume time
     * moves by more than a second, so a run re-delayed many times (a long wait for the workspace's cap) costs few writes.
     */
    async noteWaiting(id: string, reason: WaitingReason, statusReason: string, delayMs: number): Promise<void> {
      await query("run-note-waiting",
        `WITH upd AS (
           UPDATE run SET status_reason = $2, next_attempt_at = now() + make_interval(secs => $3::double precision / 1000),
                  waiting = ${WAITING_JSON("$4::text", "$3")}
           WHERE id = $1 AND ${statusIn("status", "queued")}
             AND (waiting IS NULL OR waiting->>'reason' IS DISTINCT FROM $4::text OR status_reason IS DISTINCT FROM $2
                  OR next_attempt_at IS NULL OR abs(EXTRACT(EPOCH FROM (next_attempt_at - now())) * 1000 - $3::double precision) > 1000)
           RETURNING ${EVENT_COLUMNS}
         )
         SELECT ${notify("upd", "$2::text")} FROM upd`,
        [id, statusReason, delayMs, reason],
      );
    },

    /**
     * Records what the caller found out about an `unknown` run: it ends succeeded (with the data it read) or failed.
     * Returns the updated run, or null when the run is not `unknown` (or not the workspace's).
     */
    async reconcile(workspaceId: string, id: string, result: { status: "succeeded" | "failed"; envelope: Envelope; by: string }): Promise<RunRow | null> {
      const output = compactJson(result.envelope, STORED_OUTPUT_MAX_BYTES);
      const { rows } = await query<RunRow & { pg_notify: unknown }>("run-reconcile",
        `WITH upd AS (
           UPDATE run SET status = $3, output = $4, output_truncated = $5, error_code = $6, updated_at = now(),
                  reconciled_at = now(), reconciled_by = $7, status_reason = 'reconciled by the caller'
           WHERE id = $1 AND workspace_id = $2 AND ${statusIn("status", "unknown")}
           RETURNING *
         )
         SELECT upd.*, ${notify("upd", "upd.status_reason", SMALL_OUTPUT("upd"))} FROM upd`,
        [id, workspaceId, result.status, output.json, output.truncated, result.envelope.error?.code ?? null, result.by],
      );
      const row = rows[0];
      if (!row) return null;
      const { pg_notify: _notified, ...run } = row;
      return run;
    },

    /** Cancels a queued run (no attempt in flight). Returns the run, or null when it is not queued (or not found). */
    async cancel(workspaceId: string, id: string): Promise<RunRow | null> {
      const envelope: Envelope = { data: null, error: { code: "CANCELED", message: "The run was canceled before it ran.", retryable: false }, successful: false };
      const { rows } = await query<RunRow & { pg_notify: unknown }>("run-cancel",
        `WITH upd AS (
           UPDATE run SET status = 'canceled', output = $3, error_code = 'CANCELED', finished_at = now(), updated_at = now(),
                  status_reason = 'canceled by request', next_attempt_at = NULL, sealed_input = NULL, waiting = NULL
           WHERE id = $1 AND workspace_id = $2 AND ${statusIn("status", "queued")}
           RETURNING *
         )
         SELECT upd.*, ${notify("upd")} FROM upd`,
        [id, workspaceId, JSON.stringify(envelope)],
      );
      const row = rows[0];
      if (!row) return null;
      return (await compactEndedInput(query, row.id)) ?? row;
    },
  };
}
