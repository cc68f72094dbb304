import type pg from "pg";
import { RUN_EVENTS_CHANNEL } from "./types";
import type { NewRun } from "./store";

/**
 * The three statements every run goes through — insert (API), claim and finish (worker) — written for a batch of
 * runs at once (`unnest` of parallel arrays), so the batcher in store.ts can serve many concurrent calls with one
 * round trip, one plan and one commit. A batch of one, the ordinary case at low load, uses a single-row form of the
 * same statement: PostgreSQL runs it about 0.1 ms faster here, which a sync execute waits for three times.
 * Each affected row sends its own NOTIFY, delivered on commit.
 */

/** A `RunEvent` built in SQL from a run row alias (the alias must expose the columns of EVENT_COLUMNS). */
export const notify = (alias: string, reason = "NULL", output = "NULL") =>
  `pg_notify('${RUN_EVENTS_CHANNEL}', json_build_object('id', ${alias}.id, 'workspace_id', ${alias}.workspace_id, 'status', ${alias}.status, ` +
  `'attempt', ${alias}.attempts_count, 'reason', ${reason}, 'action', ${alias}.action, 'integration', ${alias}.integration, ` +
  `'error_code', ${alias}.error_code, 'waiting', ${alias}.waiting, 'at', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'output', ${output})::text)`;
/** The envelope, inlined into a terminal event when it fits comfortably in NOTIFY's 8000-byte payload. */
export const SMALL_OUTPUT = (alias: string) => `CASE WHEN octet_length(${alias}.output::text) <= 6000 THEN ${alias}.output END`;
export const EVENT_COLUMNS = "id, workspace_id, status, attempts_count, action, integration, error_code, waiting";

/**
 * Writes an ended attempt's row from `select` (run_id, number, started_at, finished_at, outcome, upstream_status,
 * latency_ms, error_code, error_message). An upsert, so an attempt whose row a claim wrote before the
 * attempt_started_at migration is completed rather than duplicated.
 */
export const ATTEMPT_UPSERT = (select: string) =>
  `INSERT INTO run_attempt (run_id, number, started_at, finished_at, outcome, upstream_status, latency_ms, error_code, error_message)
   ${select}
   ON CONFLICT (run_id, number) DO UPDATE SET finished_at = EXCLUDED.finished_at, outcome = EXCLUDED.outcome,
     upstream_status = EXCLUDED.upstream_status, latency_ms = EXCLUDED.latency_ms, error_code = EXCLUDED.error_code,
     error_message = EXCLUDED.error_message`;

/** A run to insert, its input already serialised. */
export type InsertItem = Omit<NewRun, "input"> & { readonly input: string };

/**
 * A CTE that turns off waiting for the WAL flush at this statement's commit (`synchronous_commit` for this transaction
 * only; the statement is its own transaction). PostgreSQL still writes the commit to disk within a few hundred ms, and
 * any later durable commit flushes it first, as WAL is written in order; only a crash of the PostgreSQL server in
 * between loses it. Used where the write is followed by a durable one before anyone relies on it.
 */
const commitMode = (value: string) => `commit_mode AS MATERIALIZED (SELECT set_config('synchronous_commit', ${value}, true) AS synchronous_commit)`;
/** 'off' when no item of the batch needs a durable commit, else 'on'. */
const insertCommitMode = (items: readonly InsertItem[]) => (items.every((i) => i.durable === false) ? "off" : "on");

/**
 * Inserts runs bound to their connection, resolved in the same statement (the named one, or the workspace's default
 * for the integration; active only). A run whose connection did not resolve, or whose Idempotency-Key another run
 * already holds, is simply absent from the result.
 */
export async function insertRuns<R extends pg.QueryResultRow>(pool: pg.Pool, items: readonly InsertItem[]): Promise<R[]> {
  if (items.length === 1) {
    const i = items[0]!;
    const { rows } = await pool.query<R>({
      name: "run-insert-one",
      text: `WITH ${commitMode("$10::text")}
             INSERT INTO run (id, workspace_id, connection_id, integration, action, schema_version, status, input, idempotency_key, request_hash, source, toolset_id, platform_assigned, sealed_input)
             SELECT $1::uuid, $2::uuid, c.id, $4::varchar, $5::varchar, $6::int, 'queued', $7::jsonb, $8::varchar, $9::varchar, $11::varchar, $12::uuid, $13::varchar[], $14::bytea FROM connection c, commit_mode
             WHERE c.workspace_id = $2::uuid AND c.integration = $4::varchar AND c.status <> 'invalid'
               AND CASE WHEN $3::uuid IS NULL THEN c.is_default ELSE c.id = $3::uuid END
             ON CONFLICT (workspace_id, idempotency_key) DO NOTHING
             RETURNING *`,
      values: [i.id, i.workspaceId, i.connectionId, i.integration, i.action, i.schemaVersion, i.input, i.idempotencyKey, i.requestHash, insertCommitMode(items), i.source ?? "api", i.toolsetId ?? null,
        i.platformAssigned ?? [], i.sealedInput ?? null],
    });
    return rows;
  }
  const col = <K extends keyof InsertItem>(k: K) => items.map((i) => i[k]);
  const { rows } = await pool.query<R>({
    name: "run-insert-batch",
    text: `WITH ${commitMode("$10::text")}
           INSERT INTO run (id, workspace_id, connection_id, integration, action, schema_version, status, input, idempotency_key, request_hash, source, toolset_id, platform_assigned, sealed_input)
           SELECT r.id, r.workspace_id, c.id, r.integration, r.action, r.schema_version, 'queued', r.input, r.idempotency_key, r.request_hash, r.source, r.toolset_id,
                  ARRAY(SELECT jsonb_array_elements_text(r.platform_assigned))::varchar(128)[], r.sealed_input
           FROM commit_mode, unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::varchar[], $5::varchar[], $6::int[], $7::jsonb[], $8::varchar[], $9::varchar[], $11::varchar[], $12::uuid[], $13::jsonb[], $14::bytea[])
                AS r(id, workspace_id, connection_id, integration, action, schema_version, input, idempotency_key, request_hash, source, toolset_id, platform_assigned, sealed_input)
           JOIN connection c ON c.workspace_id = r.workspace_id AND c.integration = r.integration AND c.status <> 'invalid'
                AND CASE WHEN r.connection_id IS NULL THEN c.is_default ELSE c.id = r.connection_id END
           ON CONFLICT (workspace_id, idempotency_key) DO NOTHING
           RETURNING *`,
    values: [col("id"), col("workspaceId"), col("connectionId"), col("integration"), col("action"), col("schemaVersion"), col("input"), col("idempotencyKey"), col("requestHash"), insertCommitMode(items),
      items.map((i) => i.source ?? "api"), items.map((i) => i.toolsetId ?? null),
      items.map((i) => JSON.stringify(i.platformAssigned ?? [])), items.map((i) => i.sealedInput ?? null)],
  });
  return rows;
}

export interface ClaimRow {
  readonly id: string;
  readonly workspace_id: string;
  readonly connection_id: string | null;
  readonly integration: string;
  readonly action: string;
  readonly input: Record<string, unknown>;
  readonly attempts_count: number;
  readonly ciphertext: Buffer | null;
  readonly base_url: string | null;
  readonly connection_status: string | null;
  readonly rate_min_rps: number | null;
  readonly rate_max_rps: number | null;
  /** The vault envelope of the input's sensitive values, if any. */
  readonly sealed_input: Buffer | null;
  /** The previous attempt's worker stopped during it (recorded as lost by this claim). */
  readonly previous_lost: boolean;
  /** The workspace's output check mode ("record" or "strict"). */
  readonly output_check_mode: string | null;
}

/**
 * Claims runs for an attempt each: queued (or running, when the previous attempt's worker died) → running, the
 * attempt counted and its start kept on the run (`attempt_started_at`); a previous attempt that never ended is
 * recorded as lost now. Each row is joined with its connection. Runs gone, canceled or already ended are absent from
 * the result. The attempt's own row is written once, when it ends (`finishRuns`, or the store's `retryLater`).
 * The claim's commit does not wait for the disk (see commitMode): a claim lost with a PostgreSQL crash leaves the run
 * queued (or running its previous attempt), the worker's finish then matches nothing, and the run is taken up again, as
 * after a worker crash. Its finish, durable, flushes the claim with it.
 */
export async function claimRuns(pool: pg.Pool, ids: readonly string[]): Promise<ClaimRow[]> {
  const one = ids.length === 1;
  const { rows } = await pool.query<ClaimRow>({
    name: one ? "run-claim-one" : "run-claim-batch",
    text: `WITH ${commitMode("'off'")}, prev AS (
             SELECT id, status, attempts_count, attempt_started_at FROM run
             WHERE ${one ? "id = $1::uuid" : "id = ANY($1::uuid[])"} AND status IN ('queued', 'running')
             FOR UPDATE
           ), claimed AS (
             UPDATE run r SET status = 'running', attempts_count = r.attempts_count + 1, started_at = COALESCE(r.started_at, now()),
                    attempt_started_at = now(), updated_at = now(), status_reason = NULL, next_attempt_at = NULL, waiting = NULL
             FROM prev WHERE r.id = prev.id
             RETURNING r.id, r.workspace_id, r.connection_id, r.integration, r.action, r.input, r.attempts_count, r.status, r.error_code, r.waiting, r.sealed_input,
                       prev.status AS prev_status, prev.attempts_count AS prev_attempt, prev.attempt_started_at AS prev_started_at
           ), lost AS (
             INSERT INTO run_attempt (run_id, number, started_at, finished_at, outcome, error_message)
             SELECT id, prev_attempt, COALESCE(prev_started_at, now()), now(), 'lost', 'The worker stopped during this attempt.'
             FROM claimed WHERE prev_status = 'running' AND prev_attempt > 0
             ON CONFLICT (run_id, number) DO UPDATE SET finished_at = EXCLUDED.finished_at, outcome = EXCLUDED.outcome, error_message = EXCLUDED.error_message
             WHERE run_attempt.finished_at IS NULL
           )
           SELECT c.id, c.workspace_id, c.connection_id, c.integration, c.action, c.input, c.attempts_count,
                  k.ciphertext, k.base_url, k.status AS connection_status, k.rate_min_rps, k.rate_max_rps, ${notify("c")},
                  c.sealed_input, (c.prev_status = 'running' AND c.prev_attempt > 0) AS previous_lost, w.output_check AS output_check_mode
           FROM commit_mode, claimed c LEFT JOIN connection k ON k.id = c.connection_id AND k.workspace_id = c.workspace_id
                LEFT JOIN workspace w ON w.id = c.workspace_id`,
    values: [one ? ids[0] : ids],
  });
  return rows;
}

export interface FinishItem {
  readonly id: string;
  readonly attempt: number;
  readonly outcome: string;
  readonly upstreamStatus: number | null;
  readonly latencyMs: number | null;
  readonly errorCode: string | null;
  readonly errorMessage: string | null;
  readonly status: "succeeded" | "failed" | "unknown";
  readonly output: string;
  /** The output check as JSON, or null. */
  readonly outputCheck: string | null;
  readonly outputTruncated: boolean;
  /** The compacted input when the input was compacted, else null (the stored input stays). */
  readonly compactedInput: string | null;
}

/**
 * Ends runs with their envelopes, closing their current attempts. Each is guarded by its attempt number (a worker
 * whose attempt was taken over cannot end the run); runs whose guard did not match are absent from the result.
 */
export async function finishRuns(pool: pg.Pool, items: readonly FinishItem[]): Promise<{ id: string; duration_ms: number }[]> {
  if (items.length === 1) {
    const i = items[0]!;
    const { rows } = await pool.query<{ id: string; duration_ms: number }>({
      name: "run-finish-one",
      text: `WITH fin AS (
               UPDATE run SET status = $8, output = $9, output_truncated = $10, error_code = $6, finished_at = now(), updated_at = now(),
                      status_reason = NULL, next_attempt_at = NULL, waiting = NULL, input = COALESCE($11::jsonb, input), input_truncated = $11::jsonb IS NOT NULL,
                      output_check = $12::jsonb, sealed_input = NULL
               WHERE id = $1 AND status = 'running' AND attempts_count = $2
               RETURNING ${EVENT_COLUMNS}, started_at, finished_at, attempt_started_at, output
             ), att AS (
               ${ATTEMPT_UPSERT("SELECT fin.id, $2::int, COALESCE(fin.attempt_started_at, now()), now(), $3::varchar, $4::int, $5::int, $6::varchar, $7::varchar FROM fin")}
             )
             SELECT fin.id, ${notify("fin", "NULL", SMALL_OUTPUT("fin"))},
                    (EXTRACT(EPOCH FROM (fin.finished_at - fin.started_at)) * 1000)::int AS duration_ms
             FROM fin`,
      values: [i.id, i.attempt, i.outcome, i.upstreamStatus, i.latencyMs, i.errorCode, i.errorMessage, i.status, i.output, i.outputTruncated, i.compactedInput, i.outputCheck],
    });
    return rows;
  }
  const col = <K extends keyof FinishItem>(k: K) => items.map((i) => i[k]);
  const { rows } = await pool.query<{ id: string; duration_ms: number }>({
    name: "run-finish-batch",
    text: `WITH v AS (
             SELECT * FROM unnest($1::uuid[], $2::int[], $3::varchar[], $4::int[], $5::int[], $6::varchar[], $7::varchar[], $8::varchar[], $9::jsonb[], $10::boolean[], $11::jsonb[], $12::jsonb[])
               AS v(id, attempt, outcome, upstream_status, latency_ms, error_code, error_message, status, output, output_truncated, compacted_input, output_check)
           ), fin AS (
             UPDATE run r SET status = v.status, output = v.output, output_truncated = v.output_truncated, error_code = v.error_code,
                    finished_at = now(), updated_at = now(), status_reason = NULL, next_attempt_at = NULL, waiting = NULL,
                    input = COALESCE(v.compacted_input, r.input), input_truncated = v.compacted_input IS NOT NULL,
                    output_check = v.output_check, sealed_input = NULL
             FROM v WHERE r.id = v.id AND r.status = 'running' AND r.attempts_count = v.attempt
             RETURNING r.id, r.workspace_id, r.status, r.attempts_count, r.action, r.integration, r.error_code, r.waiting, r.started_at, r.finished_at,
                       r.attempt_started_at, r.output
           ), att AS (
             ${ATTEMPT_UPSERT("SELECT fin.id, v.attempt, COALESCE(fin.attempt_started_at, now()), now(), v.outcome, v.upstream_status, v.latency_ms, v.error_code, v.error_message FROM fin JOIN v ON v.id = fin.id")}
           )
           SELECT fin.id, ${notify("fin", "NULL", SMALL_OUTPUT("fin"))},
                  (EXTRACT(EPOCH FROM (fin.finished_at - fin.started_at)) * 1000)::int AS duration_ms
           FROM fin`,
    values: [col("id"), col("attempt"), col("outcome"), col("upstreamStatus"), col("latencyMs"), col("errorCode"), col("errorMessage"), col("status"), col("output"), col("outputTruncated"), col("compactedInput"), col("outputCheck")],
  });
  return rows;
}
