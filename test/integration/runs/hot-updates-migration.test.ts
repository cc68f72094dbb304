// Migration 20261207120000_run_hot_updates on a run table that already holds runs: its CHECK constraints would refuse
// rows written before them that break their rules, so it first mends those (an ended run without finished_at takes
// its updated_at; a live run loses a finished_at; a run that ended without success and without a code takes its
// envelope's code, or UPSTREAM_OUTCOME_FAILED), and every run is then found under its status as before.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import pg from "pg";
import { inject } from "vitest";
import { listMigrations, migrate, MIGRATIONS_DIR, quoteIdent, uuidv7 } from "@nagent/db";
import { pageSql, type RunStatus } from "@nagent/runs";
import { TEST_PG_URL, withDatabase } from "../../support/env";

const MIGRATION = "20261207120000_run_hot_updates";
const name = `${inject("testDbPrefix")}hot_${randomBytes(4).toString("hex")}`;
const url = withDatabase(TEST_PG_URL, name);
let pool: pg.Pool;
let dir: string;
const workspaceId = uuidv7();

/** The runs as written before the migration: each breaks one of its rules, or none. */
const BEFORE: { key: string; status: RunStatus; finished: boolean; errorCode: string | null; output: unknown }[] = [
  { key: "succeeded-unfinished", status: "succeeded", finished: false, errorCode: null, output: { data: [], error: null, successful: true } },
  { key: "queued-finished", status: "queued", finished: true, errorCode: null, output: null },
  { key: "failed-without-code", status: "failed", finished: true, errorCode: null, output: { data: null, error: { code: "UPSTREAM_BAD_REQUEST", message: "no", retryable: false }, successful: false } },
  { key: "unknown-without-anything", status: "unknown", finished: false, errorCode: null, output: null },
  { key: "running-fine", status: "running", finished: false, errorCode: null, output: null },
  { key: "canceled-fine", status: "canceled", finished: true, errorCode: "CANCELED", output: null },
];

beforeAll(async () => {
  // The migrations before this one, applied to a database of this file's own.
  dir = mkdtempSync(join(tmpdir(), "nagent-migrations-"));
  for (const m of listMigrations(MIGRATIONS_DIR).filter((m) => m.name < MIGRATION)) cpSync(join(MIGRATIONS_DIR, m.name), join(dir, m.name), { recursive: true });
  await migrate({ url, dir });
  pool = new pg.Pool({ connectionString: url, max: 2 });
  await pool.query(`INSERT INTO workspace (id, name) VALUES ($1, 'before')`, [workspaceId]);
  for (const r of BEFORE) {
    await pool.query(
      `INSERT INTO run (id, workspace_id, integration, action, schema_version, status, input, output, error_code, idempotency_key, finished_at, updated_at)
       VALUES ($1, $2, 'scale_ai', 'SCALE_AI_LIST_PROJECTS', 1, $3, '{}', $4, $5, $6, CASE WHEN $7::boolean THEN now() - interval '1 hour' END, now() - interval '2 hours')`,
      [uuidv7(), workspaceId, r.status, r.output === null ? null : JSON.stringify(r.output), r.errorCode, r.key, r.finished]);
  }
  // Then the rest, as a deployment would.
  for (const m of listMigrations(MIGRATIONS_DIR).filter((m) => m.name >= MIGRATION)) cpSync(join(MIGRATIONS_DIR, m.name), join(dir, m.name), { recursive: true });
  await migrate({ url, dir });
});
afterAll(async () => {
  await pool?.end();
  rmSync(dir, { recursive: true, force: true });
  const c = new pg.Client({ connectionString: withDatabase(TEST_PG_URL, "postgres") });
  await c.connect();
  await c.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
  await c.end();
});

describe("migration 20261207120000_run_hot_updates on existing runs", () => {
  it("mends the rows its constraints would refuse, and leaves the others as they were", async () => {
    const { rows } = await pool.query<{ key: string; status: string; finished: boolean; error_code: string | null; ended_at_update: boolean }>(
      `SELECT idempotency_key AS key, status, finished_at IS NOT NULL AS finished, error_code, finished_at = updated_at AS ended_at_update FROM run`);
    const byKey = Object.fromEntries(rows.map((r) => [r.key, r]));
    expect(byKey["succeeded-unfinished"]).toMatchObject({ status: "succeeded", finished: true, error_code: null, ended_at_update: true });
    expect(byKey["queued-finished"]).toMatchObject({ status: "queued", finished: false });
    expect(byKey["failed-without-code"]).toMatchObject({ status: "failed", finished: true, error_code: "UPSTREAM_BAD_REQUEST" });
    expect(byKey["unknown-without-anything"]).toMatchObject({ status: "unknown", finished: true, error_code: "UPSTREAM_OUTCOME_FAILED", ended_at_update: true });
    expect(byKey["running-fine"]).toMatchObject({ status: "running", finished: false, error_code: null });
    expect(byKey["canceled-fine"]).toMatchObject({ status: "canceled", finished: true, error_code: "CANCELED", ended_at_update: false });
  });

  it("lists every run under its status, through the new indexes", async () => {
    for (const r of BEFORE) {
      const { sql, params } = pageSql(workspaceId, { status: r.status }, 50);
      const { rows } = await pool.query<{ idempotency_key: string }>(sql, params);
      expect(rows.map((x) => x.idempotency_key), r.status).toEqual([r.key]);
    }
  });
});
