import type pg from "pg";
import type { Envelope, OutputCheck, OutputCheckMode, RunSource, RunStatus, Waiting, WaitingReason } from "./types";
import { createBatcher } from "@nagent/batch";
import { claimRuns, EVENT_COLUMNS, finishRuns, insertRuns, notify, SMALL_OUTPUT, type ClaimRow, type FinishItem, type InsertItem } from "./hot-path";
import { compactJson, STORED_INPUT_MAX_BYTES, STORED_OUTPUT_MAX_BYTES } from "./compact";

/**
 * The run table's state machine, as SQL on the pg pool (named prepared statements). The hot path — insert (which
 * also resolves the connection), claim (which joins the connection) and finish (attempt, run and NOTIFY in one
 * statement) — goes through batchers, so concurrent calls share round trips and commits (hot-path.ts). Every state
 * change sends a `RunEvent` on RUN_EVENTS_CHANNEL, delivered on commit. Queries from the API carry the workspace id;
 * the worker addresses runs by the id of its own job.
 */

export interface NewRun {
  readonly id: string;
  readonly workspaceId: string;
  /** The connection the caller named, or null for the workspace's default connection of the integration. */
  readonly connectionId: string | null;
  readonly integration: string;
  readonly action: string;
  readonly schemaVersion: number;
  readonly input: unknown;
  readonly idempotencyKey: string | null;
  readonly requestHash: string | null;
  /** Where the call came from: "api" (REST execute, the default) or "mcp" (tools/call). */
  readonly source?: RunSource;
  /** The tool set an MCP call came through, if any. */
  readonly toolsetId?: string | null;
  /** Input properties the platform filled in (shown as platform-assigned). */
  readonly platformAssigned?: readonly string[];
  /** The input's sensitive values, sealed by the vault (`input` holds them masked); null when there are none. */
  readonly sealedInput?: Buffer | null;
  /**
   * Whether the insert returns only once its commit is on disk (the default). A sync execute passes false: nothing is
   * promised before its answer, and its answer follows the run's finish, whose durable commit flushes this one too
   * (a sync execute answering before the finish makes the insert durable first: `flushCommits`).
   */
  readonly durable?: boolean;
}

export interface RunRow {
  readonly id: string;
  readonly workspace_id: string;
  readonly connection_id: string | null;
  readonly integration: string;
  readonly action: string;
  readonly schema_version: number;
  readonly status: RunStatus;
  readonly status_reason: string | null;
  readonly input: unknown;
  readonly input_truncated: boolean;
  readonly output: Envelope | null;
  readonly output_truncated: boolean;
  readonly error_code: string | null;
  readonly idempotency_key: string | null;
  readonly request_hash: string | null;
  readonly attempts_count: number;
  readonly created_at: Date;
  readonly updated_at: Date;
  readonly started_at: Date | null;
  readonly finished_at: Date | null;
  readonly next_attempt_at: Date | null;
  /** When the attempt in flight started (its run_attempt row is written when it ends). */
  readonly attempt_started_at: Date | null;
  readonly source: RunSource;
  readonly toolset_id: string | null;
  /** Why a queued run waits (null when it does not). */
  readonly waiting: Waiting | null;
  /** The upstream answer checked against the action's output schema (null before the end, or when none was read). */
  readonly output_check: OutputCheck | null;
  /** Input properties the platform filled in. */
  readonly platform_assigned: string[];
  /** Never shown: the vault envelope of the input's sensitive values, while the run may still call the upstream. */
  readonly sealed_input: Buffer | null;
  readonly reconciled_at: Date | null;
  readonly reconciled_by: string | null;
}

export interface AttemptRow {
  readonly number: number;
  readonly started_at: Date;
  readonly finished_at: Date | null;
  readonly outcome: string | null;
  readonly upstream_status: number | null;
  readonly latency_ms: number | null;
  readonly error_code: string | null;
  readonly error_message: string | null;
  readonly retry_delay_ms: number | null;
}

/** A claimed run with what the worker needs to call the upstream. */
export interface ClaimedRun extends Pick<ClaimRow, "id" | "workspace_id" | "connection_id" | "integration" | "action" | "input" | "sealed_input"> {
  readonly attempt: number;
  /** The previous attempt's worker stopped during it: that attempt may have reached the upstream, unheard. */
  readonly previousLost: boolean;
  /** The workspace's choice for answers that do not match the output schema. */
  readonly outputCheckMode: OutputCheckMode;
  readonly connection: { readonly ciphertext: Buffer; readonly base_url: string | null; readonly status: string; readonly rate_min_rps: number | null; readonly rate_max_rps: number | null } | null;
}

/**
 * The `waiting` object built in SQL: the reason, since when (kept while the reason stays the same) and the resume time
 * `delayMs` from now. Reads the row's current `waiting` (an UPDATE's SET sees the old row).
 */
const WAITING_JSON = (reason: string, delayMs: string) =>
  `jsonb_build_object('reason', ${reason}, ` +
  `'since', CASE WHEN waiting->>'reason' = ${reason} THEN waiting->'since' ELSE to_jsonb(to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')) END, ` +
  `'resume_at', to_char((now() + make_interval(secs => ${delayMs}::double precision / 1000)) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))`;

/** How long an Idempotency-Key binds its request (Stripe: 24 hours). */
export const IDEMPOTENCY_WINDOW_HOURS = 24;

export function createRunStore(pool: pg.Pool) {
  /**
   * Every statement is a named prepared statement: PostgreSQL parses and plans it once per connection, and the long
   * CTE texts are not sent again on each call (this is the hot path of every run).
   */
  const query = <R extends pg.QueryResultRow = pg.QueryResultRow>(name: string, text: string, values: unknown[]) => pool.query<R>({ name, text, values });

  // The hot path, batched (see batcher.ts and hot-path.ts). Two batches of each kind may be in flight at once, which
  // keeps a pool connection free for everything else.
  const batching = { maxBatch: 100, maxConcurrent: 1 };
  const insertOne = createBatcher<InsertItem, RunRow | null>(async (items) => {
    const rows = await insertRuns<RunRow>(pool, items);
    const byId = new Map(rows.map((r) => [r.id, r]));
    return items.map((i) => byId.get(i.id) ?? null);
  }, batching);
  const claimOne = createBatcher<string, ClaimRow | null>(async (ids) => {
    const rows = await claimRuns(pool, ids);
    const byId = new Map(rows.map((r) => [r.id, r]));
    return ids.map((id) => byId.get(id) ?? null);
  }, batching);
  const finishOne = createBatcher<FinishItem, number | null>(async (items) => {
    const rows = await finishRuns(pool, items);
    const byId = new Map(rows.map((r) => [r.id, r.duration_ms]));
    return items.map((i) => byId.get(i.id) ?? null);
  }, batching);

  /**
   * Compacts the input of a run that ended without a worker's finish (canceled, abandoned), as `finish` does for the
   * others; returns the updated row, or null when the input was small enough already.
   */
  async function compactEndedInput(id: string): Promise<RunRow | null> {
    const { rows } = await query<{ input: unknown }>("run-large-ended-input",
      `SELECT input FROM run WHERE id = $1 AND status IN ('canceled', 'failed', 'succeeded', 'unknown') AND octet_length(input::text) > $2`,
      [id, STORED_INPUT_MAX_BYTES]);
    if (!rows[0]) return null;
    const compacted = compactJson(rows[0].input, STORED_INPUT_MAX_BYTES);
    const updated = await query<RunRow>("run-compact-input", `UPDATE run SET input = $2, input_truncated = true WHERE id = $1 RETURNING *`,
      [id, compacted.json]);
    return updated.rows[0] ?? null;
  }

  return {
    /**
     * Inserts a queued run bound to its connection, resolved in the same statement: the named one, or the workspace's
     * default for the integration, and only if it is active. Returns `{created: true}`; `{created: false, run}` when
     * the Idempotency-Key was bound meanwhile by a concurrent request (the caller compares request hashes); or
     * `{created: false, run: null}` when no usable connection matched (the caller finds out why, off the hot path).
     */
    async insert(run: NewRun): Promise<{ created: true; run: RunRow } | { created: false; run: RunRow | null }> {
      const inserted = await insertOne({ ...run, input: JSON.stringify(run.input), platformAssigned: run.platformAssigned ?? [], sealedInput: run.sealedInput ?? null });
      if (inserted) return { created: true, run: inserted };
      if (run.idempotencyKey === null) return { created: false, run: null };
      const existing = await query<RunRow>("run-by-idempotency-key-any", `SELECT * FROM run WHERE workspace_id = $1 AND idempotency_key = $2`, [run.workspaceId, run.idempotencyKey]);
      return { created: false, run: existing.rows[0] ?? null };
    },

    /**
     * Returns once every commit made so far is on disk, including those that did not wait for it (a sync execute's
     * insert): a transaction given an id commits durably, and WAL is flushed in order. Call it before answering with a
     * run that a non-durable insert created.
     */
    async flushCommits(): Promise<void> {
      await query("flush-commits", "SELECT txid_current()", []);
    },

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
         WHERE r.id = $1 AND r.workspace_id = $2 AND r.status = 'running' AND r.attempt_started_at IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM run_attempt x WHERE x.run_id = r.id AND x.number = r.attempts_count)
         ORDER BY 1`,
        [id, workspaceId],
      );
      return rows;
    },

    /**
     * Takes a run for an attempt: queued (or running, when the worker of the previous attempt died) → running, the
     * attempt counted and recorded as started, an unfinished earlier attempt marked lost. Returns null when the run
     * is gone, canceled or already ended (its job then has nothing to do).
     */
    async claim(id: string): Promise<ClaimedRun | null> {
      const row = await claimOne(id);
      if (!row) return null;
      return {
        id: row.id,
        workspace_id: row.workspace_id,
        connection_id: row.connection_id,
        integration: row.integration,
        action: row.action,
        input: row.input,
        sealed_input: row.sealed_input,
        attempt: row.attempts_count,
        previousLost: row.previous_lost,
        outputCheckMode: row.output_check_mode === "strict" ? "strict" : "record",
        connection: row.ciphertext ? { ciphertext: row.ciphertext, base_url: row.base_url, status: row.connection_status ?? "active", rate_min_rps: row.rate_min_rps, rate_max_rps: row.rate_max_rps } : null,
      };
    },

    /**
     * Ends a run (succeeded or failed) with its envelope, closing its current attempt, in one statement. Guarded by the
     * attempt number, so a worker whose attempt was taken over cannot end the run. Large inputs are compacted now that
     * nothing needs them whole. Returns null when the guard did not match, else the run's duration (first attempt's
     * start to now).
     */
    async finish(run: { id: string; attempt: number; input: unknown }, outcome: AttemptOutcome & { status: "succeeded" | "failed" | "unknown"; envelope: Envelope; outputCheck?: OutputCheck | null }): Promise<{ durationMs: number } | null> {
      const output = compactJson(outcome.envelope, STORED_OUTPUT_MAX_BYTES);
      const input = compactJson(run.input, STORED_INPUT_MAX_BYTES);
      const durationMs = await finishOne({
        id: run.id, attempt: run.attempt, outcome: outcome.outcome, upstreamStatus: outcome.upstreamStatus, latencyMs: outcome.latencyMs,
        errorCode: outcome.errorCode, errorMessage: outcome.errorMessage, status: outcome.status,
        output: output.json, outputTruncated: output.truncated, compactedInput: input.truncated ? input.json : null,
        outputCheck: outcome.outputCheck ? JSON.stringify(outcome.outputCheck) : null,
      });
      return durationMs === null ? null : { durationMs };
    },

    /** Closes a failed attempt that will be retried and puts the run back in the queue with the reason and time. */
    async retryLater(run: { id: string; attempt: number }, outcome: AttemptOutcome & { delayMs: number; reason: string }): Promise<boolean> {
      const { rowCount } = await query("run-retry-later",
        `WITH upd AS (
           UPDATE run SET status = 'queued', status_reason = $8, next_attempt_at = now() + make_interval(secs => $7::double precision / 1000), updated_at = now(),
                  waiting = ${WAITING_JSON("'retry_backoff'", "$7")}
           WHERE id = $1 AND status = 'running' AND attempts_count = $2
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
     * Records why a queued run waits (`waiting`: reason, since, resume_at; and the human `status_reason`) without
     * touching its attempts, and tells the run's event stream. Written only when the reason changes or the resume time
     * moves by more than a second, so a run re-delayed many times (a long wait for the workspace's cap) costs few writes.
     */
    async noteWaiting(id: string, reason: WaitingReason, statusReason: string, delayMs: number): Promise<void> {
      await query("run-note-waiting",
        `WITH upd AS (
           UPDATE run SET status_reason = $2, next_attempt_at = now() + make_interval(secs => $3::double precision / 1000),
                  waiting = ${WAITING_JSON("$4::text", "$3")}
           WHERE id = $1 AND status = 'queued'
             AND (waiting IS NULL OR waiting->>'reason' IS DISTINCT FROM $4::text OR status_reason IS DISTINCT FROM $2
                  OR next_attempt_at IS NULL OR abs(EXTRACT(EPOCH FROM (next_attempt_at - now())) * 1000 - $3::double precision) > 1000)
           RETURNING ${EVENT_COLUMNS}
         )
         SELECT ${notify("upd", "$2::text")} FROM upd`,
        [id, statusReason, delayMs, reason],
      );
    },

    /** A queued run's rank among its workspace's queued runs, oldest first (1 = next in line). */
    async queuePosition(workspaceId: string, run: { id: string; created_at: Date }): Promise<number> {
      const { rows } = await query<{ n: number }>("run-queue-position",
        `SELECT count(*)::int + 1 AS n FROM run WHERE workspace_id = $1 AND status = 'queued' AND (created_at, id) < ($2, $3::uuid)`,
        [workspaceId, run.created_at, run.id]);
      return rows[0]?.n ?? 1;
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
           WHERE id = $1 AND workspace_id = $2 AND status = 'unknown'
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
           WHERE id = $1 AND workspace_id = $2 AND status = 'queued'
           RETURNING *
         )
         SELECT upd.*, ${notify("upd")} FROM upd`,
        [id, workspaceId, JSON.stringify(envelope)],
      );
      const row = rows[0];
      if (!row) return null;
      return (await compactEndedInput(row.id)) ?? row;
    },

    /** Runs left queued (their enqueue lost) or running (their worker lost) longer than the thresholds. */
    async findStuck(options: { queuedForMs: number; runningForMs: number; limit: number }): Promise<StuckRun[]> {
      const { rows } = await query<StuckRun>("run-find-stuck",
        `(SELECT id, workspace_id, connection_id, status FROM run
          WHERE status = 'queued' AND updated_at < now() - make_interval(secs => $1::double precision / 1000)
            AND (next_attempt_at IS NULL OR next_attempt_at < now() - make_interval(secs => $1::double precision / 1000))
          ORDER BY updated_at LIMIT $3)
         UNION ALL
         (SELECT id, workspace_id, connection_id, status FROM run
          WHERE status = 'running' AND updated_at < now() - make_interval(secs => $2::double precision / 1000)
          ORDER BY updated_at LIMIT $3)`,
        [options.queuedForMs, options.runningForMs, options.limit],
      );
      return rows;
    },

    /** Marks a stuck run as looked at, so the sweeper does not re-enqueue it again at once. */
    async touch(id: string): Promise<void> {
      await query("run-touch", `UPDATE run SET updated_at = now() WHERE id = $1 AND status IN ('queued', 'running')`, [id]);
    },

    /** Ends a run the platform gave up on (e.g. its job failed beyond recovery), with a platform error. */
    async abandon(id: string, error: { code: string; message: string }): Promise<boolean> {
      const envelope: Envelope = { data: null, error: { ...error, retryable: false }, successful: false };
      const { rowCount } = await query("run-abandon",
        `WITH prev AS (
           SELECT id, status, attempts_count, attempt_started_at FROM run WHERE id = $1 AND status IN ('queued', 'running') FOR UPDATE
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
      await compactEndedInput(id);
      return true;
    },
  };
}

export type RunStore = ReturnType<typeof createRunStore>;

export interface StuckRun {
  readonly id: string;
  readonly workspace_id: string;
  readonly connection_id: string | null;
  readonly status: RunStatus;
}

/** How an attempt ended, as recorded on run_attempt. */
export interface AttemptOutcome {
  readonly outcome: "succeeded" | "failed" | "unknown" | "retry";
  readonly upstreamStatus: number | null;
  readonly latencyMs: number | null;
  readonly errorCode: string | null;
  readonly errorMessage: string | null;
}
