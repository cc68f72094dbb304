import type { ClaimedRun, InsertedRun, NewRun, RunRow } from "./types";
import { hotStatement, type HotStatement } from "./hot-statement";
import { commitMode, EVENT_COLUMNS, notify, SMALL_OUTPUT, statusIn } from "./sql-fragments";

/**
 * The three statements every run goes through — insert (API), claim and finish (worker) — each described once and
 * run for one run or a batch of them (hot-statement.ts), so the store's batchers can serve many concurrent calls
 * with one round trip, one plan and one commit. Each affected row sends its own NOTIFY, delivered on commit.
 */

/** A run to insert, its input already serialised. */
export type InsertItem = Omit<NewRun, "input"> & { readonly input: string };

const INSERT_COLUMNS = "id uuid, workspace_id uuid, connection_id uuid, integration varchar, action varchar, schema_version int, input jsonb, " +
  "idempotency_key varchar, request_hash varchar, source varchar, toolset_id uuid, platform_assigned jsonb, sealed_input bytea";
const insertValues = (i: InsertItem): unknown[] => [i.id, i.workspaceId, i.connectionId, i.integration, i.action, i.schemaVersion, i.input, i.idempotencyKey, i.requestHash,
  i.source ?? "api", i.toolsetId ?? null,
  // A JSON array: the batch form cannot pass one varchar[] per run (PostgreSQL arrays are rectangular).
  JSON.stringify(i.platformAssigned ?? []), i.sealedInput ?? null];
/**
 * The insert both statements share, resolving each run's connection; `status`, `attempts` and `started` are SQL. The
 * conflict target names the unique index's predicate: it holds only runs with an Idempotency-Key (migration
 * 20261207130000_run_partial_idempotency_key), and PostgreSQL infers a partial index as the arbiter only so.
 */
const insertRunsFrom = (rows: string, status: string, attempts: string, started: string, claimedBy = "NULL") =>
  `INSERT INTO run (id, workspace_id, connection_id, integration, action, schema_version, status, input, idempotency_key, request_hash, source, toolset_id, platform_assigned, sealed_input,
                    attempts_count, started_at, attempt_started_at, claimed_by)
     SELECT v.id, v.workspace_id, c.id, v.integration, v.action, v.schema_version, ${status}, v.input, v.idempotency_key, v.request_hash, v.source, v.toolset_id,
            ARRAY(SELECT jsonb_array_elements_text(v.platform_assigned))::varchar(128)[], v.sealed_input, ${attempts}, ${started}, ${started}, ${claimedBy}
     FROM commit_mode, ${rows}
     JOIN connection c ON c.workspace_id = v.workspace_id AND c.integration = v.integration AND c.status <> 'invalid'
          AND CASE WHEN v.connection_id IS NULL THEN c.is_default ELSE c.id = v.connection_id END
     ON CONFLICT (workspace_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING`;

/**
 * Inserts runs bound to their connection, resolved in the same statement (the named one, or the workspace's default
 * for the integration; active only). A run whose connection did not resolve, or whose Idempotency-Key another run
 * already holds, is simply absent from the result. The commit waits for the disk unless every run of the call was
 * inserted with `durable: false` (see commitMode).
 */
export const INSERT_RUNS: HotStatement<InsertItem> = {
  name: "run-insert",
  columns: INSERT_COLUMNS,
  values: insertValues,
  // Whether the commit waits for the disk: not when every run of the call was inserted with `durable: false`.
  shared: { type: "text", value: (items) => (items.every((i) => i.durable === false) ? "off" : "on") },
  text: (rows, synchronousCommit) =>
    `WITH ${commitMode(synchronousCommit)}
     ${insertRunsFrom(rows, "'queued'", "0", "NULL")}
     RETURNING id, workspace_id, status, output, connection_id`,
};

/** A sync execute's run to insert already claimed, when its connection resolves to the one it was admitted for. */
export type InsertClaimedItem = InsertItem & { readonly admittedConnectionId: string };

/** A run as INSERT_CLAIMED_RUNS returns it: the InsertedRun, and when it was claimed (running), the claim's joins. */
export type InsertClaimedRow = InsertedRun & Pick<ClaimRow, "ciphertext" | "base_url" | "connection_status" | "rate_min_rps" | "rate_max_rps" | "output_check_mode">;

/**
 * Inserts a sync execute's runs and claims them for their first attempt in the same statement — `running`, attempt 1
 * started now — when the connection the statement resolves is the one the run's workspace slot and
 * pace turn were admitted for (`admitted_connection_id`), held under the run's own id (the id of the job it gets if
 * the attempt goes to the queue; see CLAIM_RUNS); otherwise queued, as INSERT_RUNS. A claimed run's row comes
 * with what the claim joins (its connection's ciphertext, base URL, status and rate bounds; the workspace's output
 * check mode); its input is the caller's own. The commit does not wait for the disk: the run's durable finish comes
 * next (see commitMode).
 *
 * It sends no run event, unlike every other state change: nobody can follow the run yet (its id is answered with the
 * run's end, or with a 202 past the bound; a follower that finds the run later reads its state first), and the NOTIFY
 * cost each sync execute 0.04–0.09 ms on this commit (measured alone, interleaved with and without it).
 */
export const INSERT_CLAIMED_RUNS: HotStatement<InsertClaimedItem> = {
  name: "run-insert-claimed",
  columns: `${INSERT_COLUMNS}, admitted_connection_id uuid`,
  values: (i) => [...insertValues(i), i.admittedConnectionId],
  text: (rows) => {
    const claimed = "c.id = v.admitted_connection_id";
    return `WITH ${commitMode("'off'")}, ins AS (
       ${insertRunsFrom(rows, `CASE WHEN ${claimed} THEN 'running' ELSE 'queued' END`, `CASE WHEN ${claimed} THEN 1 ELSE 0 END`, `CASE WHEN ${claimed} THEN now() END`,
         `CASE WHEN ${claimed} THEN v.id::text END`)}
       RETURNING ${EVENT_COLUMNS}, output, connection_id
     )
     SELECT i.id, i.workspace_id, i.status, i.output, i.connection_id,
            k.ciphertext, k.base_url, k.status AS connection_status, k.rate_min_rps, k.rate_max_rps, w.output_check AS output_check_mode
     FROM ins i LEFT JOIN connection k ON i.status = 'running' AND k.id = i.connection_id AND k.workspace_id = i.workspace_id
          LEFT JOIN workspace w ON i.status = 'running' AND w.id = i.workspace_id`;
  },
};

/** A claimed run's row as the claim returns it; the store shapes it into a ClaimedRun. */
export interface ClaimRow extends Pick<ClaimedRun, "id" | "workspace_id" | "connection_id" | "integration" | "action" | "input" | "sealed_input"> {
  readonly attempts_count: number;
  readonly ciphertext: Buffer | null;
  readonly base_url: string | null;
  readonly connection_status: string | null;
  readonly rate_min_rps: number | null;
  readonly rate_max_rps: number | null;
  /** The previous attempt's worker stopped during it (recorded as lost by this claim). */
  readonly previous_lost: boolean;
  /** The workspace's output check mode ("record" or "strict"). */
  readonly output_check_mode: string | null;
}

/**
/** A run to claim, and the queue job whose attempt will hold it (its id; the run's own for a one-run job). */
export interface ClaimItem {
  readonly id: string;
  readonly holder: string;
}

/**
 * Claims runs for an attempt each: queued (or running, when the previous attempt's worker died) → running, the
 * attempt counted and its start kept on the run (`attempt_started_at`); a previous attempt that never ended is
 * recorded as lost now. Each row is joined with its connection. Runs gone, canceled or already ended are absent from
 * the result. The attempt's own row is written once, when it ends (FINISH_RUNS, or the store's `retryLater`).
 * The claim's commit does not wait for the disk (see commitMode): a claim lost with a PostgreSQL crash leaves the run
 * queued (or running its previous attempt), the worker's finish then matches nothing, and the run is taken up again, as
 * after a worker crash. Its finish, durable, flushes the claim with it.
 *
 * The rows are found by id alone (`= ANY(ARRAY(…))`) and their status is checked after the lock: a generic plan that
 * also filters on status, or joins unnest as a semi-join, picks the status index when most rows are queued (a
 * backlog) and reads all of them — measured on bench/execute's 214,000-run table, 153,000 queued: 131 ms for the
 * semi-join, 45 ms for `id = ANY($1) AND status IN (…)` (the form before issue 18), 0.17 ms by id alone (5 runs).
 * They are locked in id order, whatever the plan (an index scan takes them in id order, a bitmap heap scan in the
 * order of the table): two workers' claims that share runs (a stalled job handed to a second worker while the first,
 * its event loop blocked past the lock, still holds it) then wait for each other rather than deadlock.
 *
 * The claim records the job that holds the run (`claimed_by`), and a `running` run is taken over only by that same job:
 * BullMQ handing a stalled job to another worker, the one case where the previous attempt's worker is known to be
 * gone. Any other job of the run (the stuck-run sweeper's, beside the batch the run is still in; a retry's own job,
 * beside a batch handed to another worker) finds it held and does nothing. The sweeper hands a run it finds stuck
 * over to the job it adds (`touch`). A queued run that waits (a planned retry, the workspace's cap, the connection's
 * pace: `next_attempt_at` ahead) is claimed before then only by its own job (holder = its id), which the wait delayed:
 * a batch handed again to a worker does not cut its runs' waits short. A run appears once per batch (the store's claim
 * batcher keeps the first caller).
 */
export const CLAIM_RUNS: HotStatement<ClaimItem> = {
  name: "run-claim",
  columns: "id uuid, holder varchar",
  values: (i) => [i.id, i.holder],
  text: (rows) =>
    `WITH ${commitMode("'off'")}, prev AS (
       SELECT id, status, attempts_count, attempt_started_at, claimed_by, next_attempt_at FROM run
       WHERE id = ANY(ARRAY(SELECT v.id FROM ${rows}))
       ORDER BY id
       FOR UPDATE
     ), claimed AS (
       UPDATE run r SET status = 'running', attempts_count = r.attempts_count + 1, started_at = COALESCE(r.started_at, now()),
              attempt_started_at = now(), updated_at = now(), status_reason = NULL, next_attempt_at = NULL, waiting = NULL, claimed_by = v.holder
       FROM prev JOIN ${rows} ON v.id = prev.id
       WHERE r.id = prev.id
         AND ((prev.status = 'queued' AND (prev.next_attempt_at IS NULL OR prev.next_attempt_at <= now() OR v.holder = prev.id::text))
              OR (prev.status = 'running' AND prev.claimed_by = v.holder))
       RETURNING r.id, r.workspace_id, r.connection_id, r.integration, r.action, r.input, r.attempts_count, r.status, r.error_code, r.waiting, r.sealed_input,
                 prev.status AS prev_status, prev.attempts_count AS prev_attempt, prev.attempt_started_at AS prev_started_at
     ), lost AS (
       INSERT INTO run_attempt (run_id, number, started_at, finished_at, outcome, error_message)
       SELECT id, prev_attempt, COALESCE(prev_started_at, now()), now(), 'lost', 'The process running this attempt (a worker, or the API for a sync execute) stopped during it.'
       FROM claimed WHERE prev_status = 'running' AND prev_attempt > 0
       ON CONFLICT (run_id, number) DO UPDATE SET finished_at = EXCLUDED.finished_at, outcome = EXCLUDED.outcome, error_message = EXCLUDED.error_message
       WHERE run_attempt.finished_at IS NULL
     )
     SELECT c.id, c.workspace_id, c.connection_id, c.integration, c.action, c.input, c.attempts_count,
            k.ciphertext, k.base_url, k.status AS connection_status, k.rate_min_rps, k.rate_max_rps, ${notify("c")},
            c.sealed_input, (c.prev_status = 'running' AND c.prev_attempt > 0) AS previous_lost, w.output_check AS output_check_mode
     FROM commit_mode, claimed c LEFT JOIN connection k ON k.id = c.connection_id AND k.workspace_id = c.workspace_id
          LEFT JOIN workspace w ON w.id = c.workspace_id`,
};

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
 * whose attempt was taken over cannot end the run); runs whose guard did not match are absent from the result. The
 * attempt's row is an upsert, so an attempt whose row a claim wrote before the attempt_started_at migration is
 * completed rather than duplicated. A run that ends without success has an error code (run_error_code_check; its
 * envelope's error always has one): should one come without, INTERNAL stands in, so that one run cannot fail the
 * statement for every run of its batch.
 */
export const FINISH_RUNS: HotStatement<FinishItem> = {
  name: "run-finish",
  columns: "id uuid, attempt int, outcome varchar, upstream_status int, latency_ms int, error_code varchar, error_message varchar, " +
    "status varchar, output jsonb, output_truncated boolean, compacted_input jsonb, output_check jsonb",
  values: (i) => [i.id, i.attempt, i.outcome, i.upstreamStatus, i.latencyMs, i.errorCode, i.errorMessage, i.status, i.output, i.outputTruncated,
    i.compactedInput, i.outputCheck],
  text: (rows) =>
    `WITH fin AS (
       UPDATE run r SET status = v.status, output = v.output, output_truncated = v.output_truncated,
              error_code = COALESCE(v.error_code, CASE WHEN v.status <> 'succeeded' THEN 'INTERNAL' END),
              finished_at = now(), updated_at = now(), status_reason = NULL, next_attempt_at = NULL, waiting = NULL,
              input = COALESCE(v.compacted_input, r.input), input_truncated = v.compacted_input IS NOT NULL,
              output_check = v.output_check, sealed_input = NULL
       FROM ${rows} WHERE r.id = v.id AND ${statusIn("r.status", "running")} AND r.attempts_count = v.attempt
       RETURNING r.id, r.workspace_id, r.status, r.attempts_count, r.action, r.integration, r.error_code, r.waiting, r.started_at, r.finished_at,
                 r.attempt_started_at, r.output,
                 v.outcome, v.upstream_status, v.latency_ms, v.error_message
     ), att AS (
       INSERT INTO run_attempt (run_id, number, started_at, finished_at, outcome, upstream_status, latency_ms, error_code, error_message)
       SELECT id, attempts_count, COALESCE(attempt_started_at, now()), now(), outcome, upstream_status, latency_ms, error_code, error_message FROM fin
       ON CONFLICT (run_id, number) DO UPDATE SET finished_at = EXCLUDED.finished_at, outcome = EXCLUDED.outcome,
         upstream_status = EXCLUDED.upstream_status, latency_ms = EXCLUDED.latency_ms, error_code = EXCLUDED.error_code,
         error_message = EXCLUDED.error_message
     )
     SELECT fin.id, ${notify("fin", "NULL", SMALL_OUTPUT("fin"))},
            (EXTRACT(EPOCH FROM (fin.finished_at - fin.started_at)) * 1000)::int AS duration_ms
     FROM fin`,
};

export const insertRuns = hotStatement<InsertItem, InsertedRun>(INSERT_RUNS);
export const insertClaimedRuns = hotStatement<InsertClaimedItem, InsertClaimedRow>(INSERT_CLAIMED_RUNS);
export const claimRuns = hotStatement<ClaimItem, ClaimRow>(CLAIM_RUNS);
export const finishRuns = hotStatement<FinishItem, { id: string; duration_ms: number }>(FINISH_RUNS);
