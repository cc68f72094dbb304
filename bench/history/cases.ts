// The list queries the benchmark measures: every filter of GET /v1/runs, the combination, and deep pages.
// Each case builds its query per workspace (its own connection, an Idempotency-Key it has, cursors into its history).
import type pg from "pg";
import { encodeRunCursor, type ListRunsQuery } from "@nagent/runs";
import type { SeededTable } from "./seed";

export interface BenchCase {
  readonly name: string;
  /** The query for one workspace, given what `prepare` found in that workspace's history. */
  readonly query: (w: WorkspaceFacts) => ListRunsQuery;
}

export interface WorkspaceFacts {
  readonly id: string;
  readonly connectionId: string;
  readonly idempotencyKey: string;
  /** Cursors after the last row of page 49 (so the query reads page 50), page 49 of succeeded, page 8 of one action. */
  readonly deep: { readonly all: string; readonly succeeded: string; readonly action: string };
}

export const PAGE = 50;
const DAY = 86_400_000;

export const CASES: readonly BenchCase[] = [
  { name: "no filter", query: () => ({}) },
  { name: "status=failed", query: () => ({ status: "failed" }) },
  { name: "action=SCALE_AI_CREATE_BATCH", query: () => ({ action: "SCALE_AI_CREATE_BATCH" }) },
  { name: "status=failed&action=…CREATE_BATCH", query: () => ({ status: "failed", action: "SCALE_AI_CREATE_BATCH" }) },
  { name: "connection_id", query: (w) => ({ connectionId: w.connectionId }) },
  { name: "error_code=UPSTREAM_RATE_LIMITED", query: () => ({ errorCode: "UPSTREAM_RATE_LIMITED" }) },
  { name: "idempotency_key", query: (w) => ({ idempotencyKey: w.idempotencyKey }) },
  { name: "created_after+created_before (7 d)", query: () => ({ createdAfter: new Date(Date.now() - 20 * DAY), createdBefore: new Date(Date.now() - 13 * DAY) }) },
  { name: "page 50, no filter", query: (w) => ({ cursor: w.deep.all }) },
  { name: "page 50, status=succeeded", query: (w) => ({ status: "succeeded", cursor: w.deep.succeeded }) },
  { name: "page 9, action=…CREATE_BATCH", query: (w) => ({ action: "SCALE_AI_CREATE_BATCH", cursor: w.deep.action }) },
];

/** What each workspace's queries need, read once before measuring (not measured). */
export async function prepare(pool: pg.Pool, table: SeededTable): Promise<WorkspaceFacts[]> {
  const facts: WorkspaceFacts[] = [];
  for (const w of table.workspaces) {
    const cursorAt = async (where: string, params: unknown[], offset: number): Promise<string> => {
      const { rows } = await pool.query<{ id: string; created_at: Date }>(
        `SELECT id, created_at FROM run WHERE workspace_id = $1 ${where} ORDER BY created_at DESC, id DESC OFFSET ${offset} LIMIT 1`,
        [w.id, ...params],
      );
      if (!rows[0]) throw new Error(`workspace ${w.id} has fewer than ${offset + 1} runs for ${where || "no filter"}`);
      return encodeRunCursor(rows[0]);
    };
    const key = await pool.query<{ idempotency_key: string }>(`SELECT idempotency_key FROM run WHERE workspace_id = $1 AND idempotency_key IS NOT NULL LIMIT 1`, [w.id]);
    facts.push({
      id: w.id,
      connectionId: w.connections[1]!,
      idempotencyKey: key.rows[0]!.idempotency_key,
      deep: {
        all: await cursorAt("", [], 49 * PAGE - 1),
        succeeded: await cursorAt("AND status = $2", ["succeeded"], 49 * PAGE - 1),
        action: await cursorAt("AND action = $2", ["SCALE_AI_CREATE_BATCH"], 8 * PAGE - 1),
      },
    });
  }
  return facts;
}
