import { RUN_EVENTS_CHANNEL } from "./types";

/** SQL pieces the run statements share: the run event each state change sends, and the per-statement commit mode. */

/** The run columns `notify` reads; a CTE's RETURNING must expose them. */
export const EVENT_COLUMNS = "id, workspace_id, status, attempts_count, action, integration, error_code, waiting";

/** A `RunEvent` built in SQL from a run row alias (the alias must expose EVENT_COLUMNS); sent by PostgreSQL on commit. */
export const notify = (alias: string, reason = "NULL", output = "NULL") =>
  `pg_notify('${RUN_EVENTS_CHANNEL}', json_build_object('id', ${alias}.id, 'workspace_id', ${alias}.workspace_id, 'status', ${alias}.status, ` +
  `'attempt', ${alias}.attempts_count, 'reason', ${reason}, 'action', ${alias}.action, 'integration', ${alias}.integration, ` +
  `'error_code', ${alias}.error_code, 'waiting', ${alias}.waiting, 'at', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'output', ${output})::text)`;

/** The envelope, inlined into a terminal event when it fits comfortably in NOTIFY's 8000-byte payload. */
export const SMALL_OUTPUT = (alias: string) => `CASE WHEN octet_length(${alias}.output::text) <= 6000 THEN ${alias}.output END`;

/**
 * A CTE that sets whether this statement's commit waits for the WAL flush (`synchronous_commit` for this transaction
 * only; the statement is its own transaction). With 'off', PostgreSQL still writes the commit to disk within a few
 * hundred ms, and any later durable commit flushes it first, as WAL is written in order; only a crash of the PostgreSQL
 * server in between loses it. Used where the write is followed by a durable one before anyone relies on it.
 */
export const commitMode = (value: string) => `commit_mode AS MATERIALIZED (SELECT set_config('synchronous_commit', ${value}, true) AS synchronous_commit)`;

/**
 * The predicates of the run table's partial indexes (migration 20261207120000_run_hot_updates), which a statement must
 * name for PostgreSQL to use them (it does not read CHECK constraints when it proves an index usable). The constraints
 * hold them to the statuses: `LIVE_RUN` holds exactly the queued and running runs (run_finished_check), `ENDED_RUN`
 * the others, `ERRORED_RUN` every failed, canceled or unknown run (run_error_code_check); a statement still tests the
 * status itself.
 */
export const LIVE_RUN = "finished_at IS NULL";
export const ENDED_RUN = "finished_at IS NOT NULL";
export const ERRORED_RUN = "error_code IS NOT NULL";

/** The status check of the run statements that find runs by id: see @nagent/db's `statusIn`. */
export { statusIn } from "@nagent/db";
