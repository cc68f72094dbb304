import type pg from "pg";
import { ERRORED_RUN, LIVE_RUN } from "./sql-fragments";
import { RUN_SOURCES, type RunRow, type RunSource, type RunStatus } from "./types";

/**
 * Run history: one page of a workspace's runs, newest first, filtered, with keyset pagination on
 * (created_at DESC, id DESC). Ids are UUIDv7 and created_at is set at insert, so the pair orders every run once and
 * never changes: a page that starts strictly after the previous page's last row neither repeats nor skips a run,
 * however many runs are added (they sort before the cursor) or deleted meanwhile. An offset would do both.
 *
 * Every filter has an index ending in (created_at DESC, id DESC) (migrations 20261128210000_run_history_indexes and
 * 20261207120000_run_hot_updates), so a page reads about `limit` index entries whatever the size of the table or the
 * depth of the page. Combinations of filters beyond those indexes (action with connection_id, error_code with action,
 * a live status with action, …) read the rows of the most selective indexed filter and test the others, within the
 * workspace.
 */

/** Every status a run can have; the `run_status_check` constraint holds the table to this list. */
export const RUN_STATUSES: readonly RunStatus[] = ["queued", "running", "succeeded", "failed", "canceled", "unknown"];

export const LIST_RUNS_DEFAULT_LIMIT = 50;
export const LIST_RUNS_MAX_LIMIT = 200;

export interface ListRunsQuery {
  readonly action?: string | undefined;
  readonly status?: RunStatus | undefined;
  readonly connectionId?: string | undefined;
  readonly errorCode?: string | undefined;
  readonly idempotencyKey?: string | undefined;
  readonly source?: RunSource | undefined;
  readonly toolsetId?: string | undefined;
  /** Inclusive: runs created at or after this instant. */
  readonly createdAfter?: Date | undefined;
  /** Exclusive: runs created before this instant (so consecutive windows neither overlap nor leave a gap). */
  readonly createdBefore?: Date | undefined;
  /** 1–200, default 50. */
  readonly limit?: number | undefined;
  /** The `nextCursor` of the previous page. */
  readonly cursor?: string | undefined;
}

/** A run without its input and output bodies (those can be large; GET /v1/runs/:id has them). */
export type RunSummaryRow = Omit<RunRow, "workspace_id" | "input" | "output" | "request_hash" | "updated_at" | "attempt_started_at">;

export interface RunPage {
  readonly runs: readonly RunSummaryRow[];
  /** Where the next page starts; null on the last page. */
  readonly nextCursor: string | null;
}

/** A cursor this module did not issue (or a malformed one); the API answers 400 INVALID_CURSOR. */
export class InvalidRunCursorError extends Error {
  constructor() {
    super("The cursor is not one this API issued.");
    this.name = "InvalidRunCursorError";
  }
}

/** A filter value out of bounds: the API validates first, so reaching this is a bug of the caller. */
export class InvalidRunQueryError extends Error {
  constructor(field: string) {
    super(`Invalid run list filter: ${field}.`);
    this.name = "InvalidRunQueryError";
  }
}

// Summaries only: `output` is never read, so a large (TOASTed) output is never fetched or decompressed for a list.
const COLUMNS = "id, connection_id, integration, action, schema_version, status, status_reason, input_truncated, output_truncated, " +
  "error_code, idempotency_key, attempts_count, created_at, started_at, finished_at, next_attempt_at, source, toolset_id, waiting";
const ORDER = "ORDER BY created_at DESC, id DESC";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const CODE = /^[A-Z][A-Z0-9_]{0,127}$/;
const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** Runs the page query on the pool; the workspace id is always the first condition. */
export function createRunLister(pool: pg.Pool) {
  return {
    async list(workspaceId: string, query: ListRunsQuery = {}): Promise<RunPage> {
      const limit = query.limit ?? LIST_RUNS_DEFAULT_LIMIT;
      const { sql, params } = pageSql(workspaceId, query, limit);
      const { rows } = await pool.query<RunSummaryRow>(sql, params);
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return { runs: page, nextCursor: rows.length > limit && last ? encodeRunCursor(last) : null };
    },
  };
}

export type RunLister = ReturnType<typeof createRunLister>;

/** The SQL and parameters of one page (exported for the benchmark's EXPLAIN). Reads `limit + 1` rows to know if more follow. */
export function pageSql(workspaceId: string, query: ListRunsQuery, limit: number): { sql: string; params: unknown[] } {
  check(workspaceId, query, limit);
  const params: unknown[] = [workspaceId];
  const p = (value: unknown) => `$${params.push(value)}`;
  const where = ["workspace_id = $1"];
  if (query.action !== undefined) where.push(`action = ${p(query.action)}`);
  if (query.connectionId !== undefined) where.push(`connection_id = ${p(query.connectionId)}`);
  if (query.errorCode !== undefined) where.push(`error_code = ${p(query.errorCode)}`);
  if (query.idempotencyKey !== undefined) where.push(`idempotency_key = ${p(query.idempotencyKey)}`);
  if (query.toolsetId !== undefined) where.push(`toolset_id = ${p(query.toolsetId)}`);
  if (query.source !== undefined) where.push(`source = ${p(query.source)}`);
  if (query.createdAfter !== undefined) where.push(`created_at >= ${p(query.createdAfter)}`);
  if (query.createdBefore !== undefined) where.push(`created_at < ${p(query.createdBefore)}`);
  if (query.cursor !== undefined) {
    const after = decodeRunCursor(query.cursor);
    // A row comparison on the index's last two columns: the scan starts right after the cursor.
    where.push(`(created_at, id) < (${p(after.createdAt)}::timestamptz, ${p(after.id)}::uuid)`);
  }
  if (query.status !== undefined) {
    where.push(`status = ${p(query.status)}`);
    // The predicate of the partial index that holds this status's runs (see sql-fragments.ts).
    const held = STATUS_INDEX_PREDICATE[query.status];
    if (held) where.push(held);
  }
  return { sql: `SELECT ${COLUMNS} FROM run WHERE ${where.join(" AND ")} ${ORDER} LIMIT ${p(limit + 1)}`, params };
}

/**
 * The partial history index each status's runs are in (migration 20261207120000_run_hot_updates), as its predicate.
 * The CHECK constraints run_finished_check and run_error_code_check make each exact: a queued or running run has no
 * finished_at, any other has one; a failed, canceled or unknown run has an error code. Succeeded runs, most of them,
 * are read through the workspace's (or the action's, the connection's) whole history and tested.
 */
const STATUS_INDEX_PREDICATE: Readonly<Record<RunStatus, string | null>> = {
  queued: LIVE_RUN,
  running: LIVE_RUN,
  succeeded: null,
  failed: ERRORED_RUN,
  canceled: ERRORED_RUN,
  unknown: ERRORED_RUN,
};

function check(workspaceId: string, q: ListRunsQuery, limit: number): void {
  if (!UUID.test(workspaceId)) throw new InvalidRunQueryError("workspace id");
  if (!Number.isInteger(limit) || limit < 1 || limit > LIST_RUNS_MAX_LIMIT) throw new InvalidRunQueryError("limit");
  if (q.status !== undefined && !RUN_STATUSES.includes(q.status)) throw new InvalidRunQueryError("status");
  if (q.action !== undefined && !CODE.test(q.action)) throw new InvalidRunQueryError("action");
  if (q.errorCode !== undefined && (!CODE.test(q.errorCode) || q.errorCode.length > 64)) throw new InvalidRunQueryError("error_code");
  if (q.connectionId !== undefined && !UUID.test(q.connectionId)) throw new InvalidRunQueryError("connection_id");
  if (q.toolsetId !== undefined && !UUID.test(q.toolsetId)) throw new InvalidRunQueryError("toolset_id");
  if (q.source !== undefined && !RUN_SOURCES.includes(q.source)) throw new InvalidRunQueryError("source");
  if (q.idempotencyKey !== undefined && (q.idempotencyKey.length < 1 || q.idempotencyKey.length > 255)) throw new InvalidRunQueryError("idempotency_key");
  for (const [field, date] of [["created_after", q.createdAfter], ["created_before", q.createdBefore]] as const) {
    if (date !== undefined && Number.isNaN(date.getTime())) throw new InvalidRunQueryError(field);
  }
}

/**
 * The position after a run: base64url of `{"t": created_at, "i": id}`. created_at is timestamptz(3) and a JS Date
 * holds milliseconds, so the ISO string is exact and the row comparison lands precisely after the row.
 */
export function encodeRunCursor(row: { readonly created_at: Date; readonly id: string }): string {
  return Buffer.from(JSON.stringify({ t: row.created_at.toISOString(), i: row.id }), "utf8").toString("base64url");
}

/** Decodes a cursor of `encodeRunCursor`; throws `InvalidRunCursorError` for anything else. */
export function decodeRunCursor(cursor: string): { createdAt: Date; id: string } {
  if (cursor.length > 200 || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw new InvalidRunCursorError();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    throw new InvalidRunCursorError();
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed) || Object.keys(parsed).length !== 2) throw new InvalidRunCursorError();
  const { t, i } = parsed as Record<string, unknown>;
  if (typeof t !== "string" || typeof i !== "string" || !ISO_MS.test(t) || !UUID.test(i)) throw new InvalidRunCursorError();
  const createdAt = new Date(t);
  // Rejects impossible dates that match the pattern (2026-02-31…): a round trip must give the same text.
  if (Number.isNaN(createdAt.getTime()) || createdAt.toISOString() !== t) throw new InvalidRunCursorError();
  return { createdAt, id: i.toLowerCase() };
}
