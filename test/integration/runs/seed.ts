import type pg from "pg";
import { uuidv7 } from "@nagent/db";

/** A run row to insert directly (history tests need many runs, not executions). */
export interface SeedRun {
  id?: string;
  workspaceId: string;
  connectionId?: string | null;
  action?: string;
  status?: "queued" | "running" | "succeeded" | "failed" | "canceled";
  errorCode?: string | null;
  idempotencyKey?: string | null;
  createdAt?: Date;
  /** Defaults to createdAt (+1 s for ended runs): for an ended run, when it ended. */
  updatedAt?: Date;
  input?: unknown;
  output?: unknown;
}

const ENDED = new Set(["succeeded", "failed", "canceled"]);

/**
 * Inserts runs in one statement and returns their ids in the order given. Ids are UUIDv7 of the creation time, as the
 * API makes them; an ended run gets an envelope consistent with its status, as the store writes it.
 */
export async function seedRuns(pool: pg.Pool, runs: readonly SeedRun[]): Promise<string[]> {
  const rows = runs.map((r) => {
    const createdAt = r.createdAt ?? new Date();
    const status = r.status ?? "succeeded";
    const ended = ENDED.has(status);
    const errorCode = r.errorCode !== undefined ? r.errorCode : status === "failed" ? "UPSTREAM_BAD_REQUEST" : status === "canceled" ? "CANCELED" : null;
    const output = r.output !== undefined ? r.output
      : status === "succeeded" ? { data: { ok: true }, error: null, successful: true }
      : ended ? { data: null, error: { code: errorCode, message: "no", retryable: false }, successful: false } : null;
    const finishedAt = ended ? new Date(createdAt.getTime() + 1_000) : null;
    return {
      id: r.id ?? uuidv7(createdAt.getTime()),
      workspace_id: r.workspaceId,
      connection_id: r.connectionId ?? null,
      action: r.action ?? "SCALE_AI_LIST_PROJECTS",
      status,
      input: r.input ?? { n: 1 },
      output,
      error_code: ended ? errorCode : null,
      idempotency_key: r.idempotencyKey ?? null,
      attempts_count: status === "queued" ? 0 : 1,
      created_at: createdAt.toISOString(),
      updated_at: (r.updatedAt ?? finishedAt ?? createdAt).toISOString(),
      started_at: status === "queued" ? null : createdAt.toISOString(),
      finished_at: finishedAt?.toISOString() ?? null,
    };
  });
  await pool.query(
    `INSERT INTO run (id, workspace_id, connection_id, integration, action, schema_version, status, input, output, error_code,
                      idempotency_key, attempts_count, created_at, updated_at, started_at, finished_at)
     SELECT r.id, r.workspace_id, r.connection_id, 'scale_ai', r.action, 1, r.status, r.input, r.output, r.error_code,
            r.idempotency_key, r.attempts_count, r.created_at, r.updated_at, r.started_at, r.finished_at
     FROM jsonb_to_recordset($1::jsonb) AS r(id uuid, workspace_id uuid, connection_id uuid, action text, status text, input jsonb,
          output jsonb, error_code text, idempotency_key text, attempts_count int, created_at timestamptz, updated_at timestamptz,
          started_at timestamptz, finished_at timestamptz)`,
    [JSON.stringify(rows)],
  );
  return rows.map((r) => r.id);
}

/** A workspace row directly (no API key needed when only the store or the retention job reads it). */
export async function seedWorkspace(pool: pg.Pool, name = "ws"): Promise<string> {
  const id = uuidv7();
  await pool.query(`INSERT INTO workspace (id, name) VALUES ($1, $2)`, [id, name]);
  return id;
}

/**
 * An active default Scale AI connection of the workspace, directly (its ciphertext a placeholder: for statements that
 * resolve a run's connection, not for calls upstream).
 */
export async function seedConnection(pool: pg.Pool, workspaceId: string): Promise<string> {
  const id = uuidv7();
  await pool.query(
    `INSERT INTO connection (id, workspace_id, integration, name, ciphertext, credential_hint, is_default, status, events_mode, probe_failures, created_at, updated_at)
     VALUES ($1, $2, 'scale_ai', 'main', '\\x00', 'test_…0000', true, 'active', 'none', 0, now(), now())`, [id, workspaceId]);
  return id;
}

/**
 * Flushes the statistics of `session`'s one connection, so that the pg_stat views read from another connection count
 * what it did so far.
 */
export async function flushStatistics(session: pg.Pool): Promise<void> {
  await session.query("SELECT pg_stat_force_next_flush()");
  await session.query("SELECT 1"); // the flush happens as that statement's transaction ends
}
