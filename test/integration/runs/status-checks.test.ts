// A statement that finds runs by id must read them by primary key, however many runs share the status it checks.
// Its plan is made once per connection (named statements), from statistics that may date from a quiet moment: with
// few runs `running` when the table was analyzed, PostgreSQL read a finished run through the status index and
// filtered every running run by id (a finish with 2,000 running runs: 754 index buffers, 1.6 ms instead of ~0.1 ms;
// with a backlog, every note of why a run waits read every queued run). packages/db/src/sql.ts, statusIn.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pg from "pg";
import { uuidv7 } from "@nagent/db";
import { createRunStore, type RunStore } from "@nagent/runs";
import { createTestDatabase, type TestDatabase } from "../../support/database";
import { flushStatistics, seedConnection, seedRuns, seedWorkspace } from "./seed";

let db: TestDatabase;
/** One connection: its statistics are flushed on demand before each reading. */
let session: pg.Pool;
let store: RunStore;
let workspaceId: string;
let connectionId: string;

beforeAll(async () => {
  db = await createTestDatabase();
  session = new pg.Pool({ connectionString: db.url, max: 1 });
  store = createRunStore(session);
  workspaceId = await seedWorkspace(db.pool, "status-checks");
  connectionId = await seedConnection(db.pool, workspaceId);
  // A quiet table when analyzed: every run ended. Then the platform gets busy: many runs running and queued.
  await seedRuns(db.pool, Array.from({ length: 1_000 }, () => ({ workspaceId, connectionId, status: "succeeded" as const })));
  await db.pool.query("ANALYZE run");
  await seedRuns(db.pool, [
    ...Array.from({ length: 500 }, () => ({ workspaceId, connectionId, status: "running" as const })),
    ...Array.from({ length: 500 }, () => ({ workspaceId, connectionId, status: "queued" as const })),
  ]);
});
afterAll(async () => {
  await session?.end();
  await db?.drop();
});

/** Index scans on the run table so far, by index, with the session's statistics flushed first. */
async function indexScans(): Promise<Map<string, number>> {
  await flushStatistics(session);
  const { rows } = await db.pool.query<{ name: string; scans: string }>("SELECT indexrelname AS name, idx_scan AS scans FROM pg_stat_user_indexes WHERE relname = 'run'");
  return new Map(rows.map((r) => [r.name, Number(r.scans)]));
}

async function newRun(): Promise<string> {
  const id = uuidv7();
  const inserted = await store.insert({ id, workspaceId, connectionId, integration: "scale_ai", action: "SCALE_AI_LIST_PROJECTS", schemaVersion: 1, input: {}, idempotencyKey: null, requestHash: null });
  expect(inserted.kind).toBe("created");
  return id;
}

const outcome = { upstreamStatus: 200, latencyMs: 1, errorCode: null, errorMessage: null };

describe("statements that find runs by id", () => {
  it("read them by primary key, with hundreds of runs running and queued that another index would read", async () => {
    // Runs at each state the statements expect, made before the count starts.
    const toFinish = await Promise.all(Array.from({ length: 8 }, () => newRun()));
    const toRetry = await Promise.all(Array.from({ length: 8 }, () => newRun()));
    const toCancel = await Promise.all(Array.from({ length: 8 }, () => newRun()));
    for (const id of [...toFinish, ...toRetry]) expect((await store.claim(id))?.attempt).toBe(1);
    const unknown = toFinish.slice(0, 2);

    const before = await indexScans();
    for (const id of toFinish) {
      const status = unknown.includes(id) ? "unknown" as const : "succeeded" as const;
      expect(await store.finish({ id, attempt: 1, input: {} }, { ...outcome, status, outcome: status, envelope: { data: {}, error: null, successful: true } })).not.toBeNull();
    }
    for (const id of unknown) {
      expect(await store.reconcile(workspaceId, id, { status: "succeeded", envelope: { data: {}, error: null, successful: true }, by: "test" })).not.toBeNull();
    }
    for (const id of toRetry) {
      expect(await store.attempts(workspaceId, id)).toHaveLength(1); // the attempt in flight, read from the run
      expect(await store.retryLater({ id, attempt: 1 }, { ...outcome, outcome: "retry", delayMs: 1_000, reason: "retry later" })).toBe(true);
      await store.noteWaiting(id, "workspace_cap", "waiting for a slot", 5_000);
      await store.touch(id);
    }
    for (const id of toCancel) expect(await store.cancel(workspaceId, id)).not.toBeNull();
    for (const id of toRetry) expect(await store.abandon(id, { code: "TEST", message: "given up" })).toBe(true);
    const after = await indexScans();

    const scans = (name: string) => (after.get(name) ?? 0) - (before.get(name) ?? 0);
    // No other index of the run table: since 20261207120000_run_hot_updates none holds the status, but the live runs'
    // partial index (finished_at IS NULL) holds every run these statements look for, and must not be read for them.
    const others = [...after.keys()].filter((name) => name !== "run_pkey");
    expect(others).toContain("run_live_workspace_id_created_at_id_idx");
    expect(Object.fromEntries(others.map((name) => [name, scans(name)]))).toEqual(Object.fromEntries(others.map((name) => [name, 0])));
    expect(scans("run_pkey")).toBeGreaterThanOrEqual(toFinish.length * 2 + toRetry.length * 5 + toCancel.length);
  });
});
