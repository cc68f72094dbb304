// Retention: runs that ended more than NAGENT_RUN_RETENTION_DAYS ago are deleted, with their attempts, in every
// workspace, in bounded batches; runs not yet ended never are. The job itself runs on the worker's maintenance queue.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Queue } from "bullmq";
import { createRedis, MAINTENANCE_QUEUE } from "@nagent/queue";
import { deleteExpiredRuns } from "@nagent/runs";
import { bearer } from "../../support/app";
import { createTestDatabase, type TestDatabase } from "../../support/database";
import { createTestStack, type TestStack } from "../../support/stack";
import { seedRuns, seedWorkspace, type SeedRun } from "./seed";

const DAY = 86_400_000;
const daysAgo = (days: number) => new Date(Date.now() - days * DAY);

async function existing(pool: TestDatabase["pool"], ids: readonly string[]): Promise<Set<string>> {
  const { rows } = await pool.query<{ id: string }>(`SELECT id FROM run WHERE id = ANY($1::uuid[])`, [ids]);
  return new Set(rows.map((r) => r.id));
}

async function addAttempts(pool: TestDatabase["pool"], runIds: readonly string[]): Promise<void> {
  await pool.query(
    `INSERT INTO run_attempt (run_id, number, started_at, finished_at, outcome) SELECT id, n, created_at, updated_at, 'failed'
     FROM run, generate_series(1, 2) AS n WHERE id = ANY($1::uuid[])`,
    [runIds],
  );
}

describe("deleteExpiredRuns", () => {
  let db: TestDatabase;
  beforeAll(async () => {
    // A database without a worker, so no scheduled retention job runs beside these calls.
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it("deletes only ended runs older than the retention, in every workspace, with their attempts", async () => {
    const [a, b] = [await seedWorkspace(db.pool, "a"), await seedWorkspace(db.pool, "b")];
    const expired: SeedRun[] = [];
    for (const workspaceId of [a, b]) {
      for (const status of ["succeeded", "failed", "canceled"] as const) expired.push({ workspaceId, status, createdAt: daysAgo(31) }, { workspaceId, status, createdAt: daysAgo(400) });
    }
    const kept: SeedRun[] = [
      // Not ended: never deleted, however old (the sweeper deals with stuck runs).
      { workspaceId: a, status: "queued", createdAt: daysAgo(90) },
      { workspaceId: b, status: "running", createdAt: daysAgo(90) },
      // Ended within the retention.
      { workspaceId: a, status: "succeeded", createdAt: daysAgo(29) },
      { workspaceId: b, status: "failed", createdAt: daysAgo(1) },
      // Created long ago but ended 10 days ago: kept 30 days after it ended.
      { workspaceId: a, status: "failed", createdAt: daysAgo(45), updatedAt: daysAgo(10) },
    ];
    const expiredIds = await seedRuns(db.pool, expired);
    const keptIds = await seedRuns(db.pool, kept);
    await addAttempts(db.pool, [...expiredIds, ...keptIds]);

    const result = await deleteExpiredRuns(db.pool, { retentionDays: 30 });
    expect(result).toEqual({ deleted: expiredIds.length, batches: 1, complete: true });
    expect(await existing(db.pool, expiredIds)).toEqual(new Set());
    expect(await existing(db.pool, keptIds)).toEqual(new Set(keptIds));
    const attempts = await db.pool.query<{ run_id: string }>(`SELECT DISTINCT run_id FROM run_attempt`);
    expect(new Set(attempts.rows.map((r) => r.run_id))).toEqual(new Set(keptIds));
    // Nothing left to do: a second pass deletes nothing.
    expect(await deleteExpiredRuns(db.pool, { retentionDays: 30 })).toEqual({ deleted: 0, batches: 1, complete: true });
    // A shorter retention reaches the run that ended 10 days ago and the one of 29 days, not the one of yesterday.
    expect((await deleteExpiredRuns(db.pool, { retentionDays: 7 })).deleted).toBe(2);
    expect(await existing(db.pool, keptIds)).toEqual(new Set([keptIds[0], keptIds[1], keptIds[3]]));
  });

  it("works in batches and stops at its bound; the next call continues", async () => {
    const ws = await seedWorkspace(db.pool, "batches");
    const ids = await seedRuns(db.pool, Array.from({ length: 25 }, (_, i) => ({ workspaceId: ws, createdAt: new Date(daysAgo(60).getTime() + i) })));
    const first = await deleteExpiredRuns(db.pool, { retentionDays: 30, batchSize: 10, maxBatches: 2, pauseMs: 1 });
    expect(first).toEqual({ deleted: 20, batches: 2, complete: false });
    expect((await existing(db.pool, ids)).size).toBe(5);
    const second = await deleteExpiredRuns(db.pool, { retentionDays: 30, batchSize: 10, maxBatches: 2, pauseMs: 1 });
    expect(second).toEqual({ deleted: 5, batches: 1, complete: true });
    expect((await existing(db.pool, ids)).size).toBe(0);
  });

  it("stops between batches when its signal is aborted (worker shutdown)", async () => {
    const ws = await seedWorkspace(db.pool, "abort");
    const ids = await seedRuns(db.pool, Array.from({ length: 12 }, (_, i) => ({ workspaceId: ws, createdAt: new Date(daysAgo(60).getTime() + i) })));
    const stop = new AbortController();
    // A pause far longer than the test: only the abort can end this call early.
    const call = deleteExpiredRuns(db.pool, { retentionDays: 30, batchSize: 5, pauseMs: 600_000, signal: stop.signal });
    await expect.poll(async () => (await existing(db.pool, ids)).size).toBe(7);
    stop.abort();
    expect(await call).toEqual({ deleted: 5, batches: 1, complete: false });
    expect((await existing(db.pool, ids)).size).toBe(7);
    await deleteExpiredRuns(db.pool, { retentionDays: 30 });
  });

  it("refuses a retention below one day", async () => {
    await expect(deleteExpiredRuns(db.pool, { retentionDays: 0 })).rejects.toThrow(/retentionDays/);
  });
});

describe("the worker's delete-expired-runs job", () => {
  let s: TestStack;
  beforeAll(async () => {
    s = await createTestStack({ env: { NAGENT_RUN_RETENTION_DAYS: "7" } });
  });
  afterAll(async () => {
    await s?.close();
  });

  it("deletes what NAGENT_RUN_RETENTION_DAYS has expired, and the list no longer shows it", async () => {
    const ws = await s.createWorkspace("retention");
    const [old, recent] = await seedRuns(s.db.pool, [
      { workspaceId: ws.id, status: "failed", createdAt: daysAgo(8) },
      { workspaceId: ws.id, status: "failed", createdAt: daysAgo(6) },
    ]);
    const listed = async () => (await s.app.inject({ method: "GET", url: "/v1/runs?status=failed", headers: bearer(ws.apiKey) })).json().runs.map((r: { id: string }) => r.id);
    // The schedule runs it every 10 minutes (and once at start, which may be this moment): add one run of it now.
    const redis = createRedis(s.config.redisUrl, "worker");
    const queue = new Queue(MAINTENANCE_QUEUE, { connection: redis, prefix: s.config.queuePrefix });
    try {
      await queue.add("delete-expired-runs", {}, { removeOnComplete: true });
      await expect.poll(listed, { timeout: 15_000 }).toEqual([recent]);
    } finally {
      await queue.close();
      redis.disconnect();
    }
    expect((await s.db.pool.query(`SELECT 1 FROM run WHERE id = $1`, [old])).rowCount).toBe(0);
    expect(s.logs.some((line) => line.includes("expired runs deleted"))).toBe(true);
  });
});
