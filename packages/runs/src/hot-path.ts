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
  `'error_code', ${alias}.error_code, 'at', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'output', ${output})::text)`;
/** The envelope, inlined into a terminal event when it fits comfortably in NOTIFY's 8000-byte payload. */
export const SMALL_OUTPUT = (alias: string) => `CASE WHEN octet_length(${alias}.output::text) <= 6000 THEN ${alias}.output END`;
export const EVENT_COLUMNS = "id, workspace_id, status, attempts_count, action, integration, error_code";

/** A run to insert, its input already serialised. */
export type InsertItem = Omit<NewRun, "input"> & { readonly input: string };

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
      text: `INSERT INTO run (id, workspace_id, connection_id, integration, action, schema_version, status, input, idempotency_key, request_hash)
             SELECT $1::uuid, $2::uuid, c.id, $4::varchar, $5::varchar, $6::int, 'queued', $7::jsonb, $8::varchar, $9::varchar FROM connection c
             WHERE c.workspace_id = $2::uuid AND c.integration = $4::varchar AND c.status = 'active'
               AND CASE WHEN $3::uuid IS NULL THEN c.is_default ELSE c.id = $3::uuid END
             ON CONFLICT (workspace_id, idempotency_key) DO NOTHING
             RETURNING *`,
      values: [i.id, i.workspaceId, i.connectionId, i.integration, i.action, i.schemaVersion, i.input, i.idempotencyKey, i.requestHash],
    });
    return rows;
  }
  const col = <K extends keyof InsertItem>(k: K) => items.map((i) => i[k]);
  const { rows } = await pool.query<R>({
    name: "run-insert-batch",
    text: `INSERT INTO run (id, workspace_id, connection_id, integration, action, schema_version, status, input, idempotency_key, request_hash)
           SELECT r.id, r.workspace_id, c.id, r.integration, r.action, r.schema_version, 'queued', r.input, r.idempotency_key, r.request_hash
           FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::varchar[], $5::varchar[], $6::int[], $7::jsonb[], $8::varchar[], $9::varchar[])
                AS r(id, workspace_id, connection_id, integration, action, schema_version, input, idempotency_key, request_hash)
           JOIN connection c ON c.workspace_id = r.workspace_id AND c.integration = r.integration AND c.status = 'active'
                AND CASE WHEN r.connection_id IS NULL THEN c.is_default ELSE c.id = r.connection_id END
           ON CONFLICT (workspace_id, idempotency_key) DO NOTHING
           RETURNING *`,
    values: [col("id"), col("workspaceId"), col("connectionId"), col("integration"), col("action"), col("schemaVersion"), col("input"), col("idempotencyKey"), col("requestHash")],
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
}

/**
 * Claims runs for an attempt each: queued (or running, when the previous attempt's worker died) → running, the
 * attempt counted and recorded as started, an unfinished earlier attempt marked lost; each row joined with its
 * connection. Runs gone, canceled or already ended are absent from the result.
 */
export async function claimRuns(pool: pg.Pool, ids: readonly string[]): Promise<ClaimRow[]> {
  const one = ids.length === 1;
  const { rows } = await pool.query<ClaimRow>({
    name: one ? "run-claim-one" : "run-claim-batch",
    text: `WITH claimed AS (
             UPDATE run SET status = 'running', attempts_count = attempts_count + 1, started_at = COALESCE(started_at, now()),
                    updated_at = now(), status_reason = NULL, next_attempt_at = NULL
             WHERE ${one ? "id = $1::uuid" : "id = ANY($1::uuid[])"} AND status IN ('queued', 'running')
             RETURNING id, workspace_id, connection_id, integration, action, input, attempts_count, status, error_code
           ), lost AS (
             UPDATE run_attempt SET outcome = 'lost', finished_at = now(), error_message = 'The worker stopped during this attempt.'
             WHERE ${one ? "run_id = $1::uuid AND EXISTS (SELECT 1 FROM claimed)" : "run_id IN (SELECT id FROM claimed)"} AND finished_at IS NULL
           ), started AS (
             INSERT INTO run_attempt (run_id, number, started_at) SELECT id, attempts_count, now() FROM claimed
           )
           SELECT c.id, c.workspace_id, c.connection_id, c.integration, c.action, c.input, c.attempts_count,
                  k.ciphertext, k.base_url, k.status AS connection_status, ${notify("c")}
           FROM claimed c LEFT JOIN connection k ON k.id = c.connection_id AND k.workspace_id = c.workspace_id`,
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
  readonly status: "succeeded" | "failed";
  readonly output: string;
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
      text: `WITH att AS (
               UPDATE run_attempt SET finished_at = now(), outcome = $3, upstream_status = $4, latency_ms = $5, error_code = $6, error_message = $7
               WHERE run_id = $1 AND number = $2
             ), fin AS (
               UPDATE run SET status = $8, output = $9, output_truncated = $10, error_code = $6, finished_at = now(), updated_at = now(),
                      status_reason = NULL, next_attempt_at = NULL, input = COALESCE($11::jsonb, input), input_truncated = $11::jsonb IS NOT NULL
               WHERE id = $1 AND status = 'running' AND attempts_count = $2
               RETURNING ${EVENT_COLUMNS}, started_at, finished_at, output
             )
             SELECT fin.id, ${notify("fin", "NULL", SMALL_OUTPUT("fin"))},
                    (EXTRACT(EPOCH FROM (fin.finished_at - fin.started_at)) * 1000)::int AS duration_ms
             FROM fin`,
      values: [i.id, i.attempt, i.outcome, i.upstreamStatus, i.latencyMs, i.errorCode, i.errorMessage, i.status, i.output, i.outputTruncated, i.compactedInput],
    });
    return rows;
  }
  const col = <K extends keyof FinishItem>(k: K) => items.map((i) => i[k]);
  const { rows } = await pool.query<{ id: string; duration_ms: number }>({
    name: "run-finish-batch",
    text: `WITH v AS (
             SELECT * FROM unnest($1::uuid[], $2::int[], $3::varchar[], $4::int[], $5::int[], $6::varchar[], $7::varchar[], $8::varchar[], $9::jsonb[], $10::boolean[], $11::jsonb[])
               AS v(id, attempt, outcome, upstream_status, latency_ms, error_code, error_message, status, output, output_truncated, compacted_input)
           ), att AS (
             UPDATE run_attempt a SET finished_at = now(), outcome = v.outcome, upstream_status = v.upstream_status, latency_ms = v.latency_ms,
                    error_code = v.error_code, error_message = v.error_message
             FROM v WHERE a.run_id = v.id AND a.number = v.attempt
           ), fin AS (
             UPDATE run r SET status = v.status, output = v.output, output_truncated = v.output_truncated, error_code = v.error_code,
                    finished_at = now(), updated_at = now(), status_reason = NULL, next_attempt_at = NULL,
                    input = COALESCE(v.compacted_input, r.input), input_truncated = v.compacted_input IS NOT NULL
             FROM v WHERE r.id = v.id AND r.status = 'running' AND r.attempts_count = v.attempt
             RETURNING r.id, r.workspace_id, r.status, r.attempts_count, r.action, r.integration, r.error_code, r.started_at, r.finished_at, r.output
           )
           SELECT fin.id, ${notify("fin", "NULL", SMALL_OUTPUT("fin"))},
                  (EXTRACT(EPOCH FROM (fin.finished_at - fin.started_at)) * 1000)::int AS duration_ms
           FROM fin`,
    values: [col("id"), col("attempt"), col("outcome"), col("upstreamStatus"), col("latencyMs"), col("errorCode"), col("errorMessage"), col("status"), col("output"), col("outputTruncated"), col("compactedInput")],
  });
  return rows;
}
