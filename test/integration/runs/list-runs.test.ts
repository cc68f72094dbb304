// GET /v1/runs: filters, their combinations, newest-first order, keyset cursors (stable while runs are added),
// bounds and validation, and workspace isolation. Runs are inserted directly in SQL (list-runs-e2e.test.ts lists real
// executions); each expectation is computed from the seeded rows by a plain in-memory filter, the oracle.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import { bearer, createTestApp, type TestApp } from "../../support/app";
import { seedRuns, type SeedRun } from "./seed";

let t: TestApp;
let a: { id: string; apiKey: string };
let b: { id: string; apiKey: string };

interface Listed { id: string; status: string; action: string; connection_id: string | null; error_code: string | null; created_at: string; successful: boolean | null; [k: string]: unknown }

async function list(apiKey: string, query: Record<string, string | number> = {}) {
  const qs = new URLSearchParams(Object.entries(query).map(([k, v]): [string, string] => [k, String(v)])).toString();
  const res = await t.app.inject({ method: "GET", url: `/v1/runs${qs ? `?${qs}` : ""}`, headers: bearer(apiKey) });
  return { status: res.statusCode, body: res.json() as { runs: Listed[]; next_cursor: string | null; error?: { code: string } } };
}

/** Every run of a listing, page by page; `between` runs after each page (e.g. to add runs). */
async function listAll(apiKey: string, query: Record<string, string | number>, between?: (page: number) => Promise<void>): Promise<Listed[]> {
  const all: Listed[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 1_000; page++) {
    const res = await list(apiKey, { ...query, ...(cursor ? { cursor } : {}) });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    all.push(...res.body.runs);
    cursor = res.body.next_cursor;
    if (cursor === null) return all;
    await between?.(page);
  }
  throw new Error("too many pages");
}

beforeAll(async () => {
  t = await createTestApp();
  a = await t.createWorkspace("history-a");
  b = await t.createWorkspace("history-b");
});
afterAll(async () => {
  await t?.close();
});

/** A small deterministic generator, so a failure reproduces. */
function lcg(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
}

describe("GET /v1/runs", () => {
  const base = Date.parse("2026-10-01T00:00:00.000Z");
  const actions = ["SCALE_AI_CREATE_BATCH", "SCALE_AI_LIST_PROJECTS", "SCALE_AI_GET_BATCH"];
  const statuses = ["queued", "running", "succeeded", "failed", "canceled"] as const;
  const codes = ["UPSTREAM_RATE_LIMITED", "UPSTREAM_BAD_REQUEST"];
  const connections = [randomUUID(), randomUUID()];
  let fixture: (SeedRun & { id: string })[] = [];

  beforeAll(async () => {
    const next = lcg(7);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;
    const runs: SeedRun[] = [];
    for (let i = 0; i < 150; i++) {
      const status = pick(statuses);
      runs.push({
        workspaceId: a.id, action: pick(actions), status, connectionId: pick(connections),
        errorCode: status === "failed" ? pick(codes) : status === "canceled" ? "CANCELED" : null,
        idempotencyKey: i % 10 === 0 ? `key-${i}` : null,
        // Minutes apart, with every fifth run sharing its millisecond with the one before: ties are broken by id.
        createdAt: new Date(base + Math.floor(i - (i % 5 === 4 ? 1 : 0)) * 60_000),
      });
    }
    const ids = await seedRuns(t.db.pool, runs);
    fixture = runs.map((r, i) => ({ ...r, id: ids[i]! }));
    // Another workspace's runs with the same actions, statuses and even the same connection ids: never listed for a.
    await seedRuns(t.db.pool, runs.slice(0, 40).map((r) => ({ ...r, workspaceId: b.id })));
  });

  /** The oracle: the fixture filtered in memory, newest first (created_at, then id, descending). */
  function expected(f: { action?: string; status?: string; connection_id?: string; error_code?: string; idempotency_key?: string; created_after?: string; created_before?: string }): string[] {
    return fixture
      .filter((r) => f.action === undefined || r.action === f.action)
      .filter((r) => f.status === undefined || r.status === f.status)
      .filter((r) => f.connection_id === undefined || r.connectionId === f.connection_id)
      .filter((r) => f.error_code === undefined || r.errorCode === f.error_code)
      .filter((r) => f.idempotency_key === undefined || r.idempotencyKey === f.idempotency_key)
      .filter((r) => f.created_after === undefined || r.createdAt!.getTime() >= Date.parse(f.created_after))
      .filter((r) => f.created_before === undefined || r.createdAt!.getTime() < Date.parse(f.created_before))
      .sort((x, y) => y.createdAt!.getTime() - x.createdAt!.getTime() || (x.id < y.id ? 1 : -1))
      .map((r) => r.id);
  }

  it("lists the workspace's runs newest first, as summaries without input or output", async () => {
    const res = await list(a.apiKey, { limit: 200 });
    expect(res.status).toBe(200);
    expect(res.body.runs.map((r) => r.id)).toEqual(expected({}));
    expect(res.body.next_cursor).toBeNull();
    const run = res.body.runs[0]!;
    expect(Object.keys(run).sort()).toEqual([
      "action", "attempts_count", "connection_id", "created_at", "duration_ms", "error_code", "finished_at", "id", "idempotency_key",
      "input_truncated", "integration", "next_attempt_at", "output_truncated", "schema_version", "source", "started_at", "status", "status_reason", "successful", "toolset_id", "waiting",
    ]);
  });

  it("reports the envelope's outcome: successful true, false, or null before the run ended", async () => {
    const runs = (await list(a.apiKey, { limit: 200 })).body.runs;
    for (const run of runs) {
      const want = run.status === "succeeded" ? true : run.status === "failed" || run.status === "canceled" ? false : null;
      expect(run.successful, run.status).toBe(want);
      if (run.status === "failed") expect(run.error_code).toMatch(/^UPSTREAM_/);
    }
    expect(new Set(runs.map((r) => r.successful))).toEqual(new Set([true, false, null]));
  });

  const filters: Record<string, Record<string, string>> = {
    "status": { status: "failed" },
    "status queued": { status: "queued" },
    "action": { action: "SCALE_AI_CREATE_BATCH" },
    "connection_id": { connection_id: "CONNECTION_0" },
    "error_code": { error_code: "UPSTREAM_RATE_LIMITED" },
    "idempotency_key": { idempotency_key: "key-40" },
    "created_after": { created_after: "2026-10-01T01:00:00.000Z" },
    "created_before": { created_before: "2026-10-01T01:00:00.000Z" },
    "a time window": { created_after: "2026-10-01T00:30:00Z", created_before: "2026-10-01T01:30:00+00:00" },
    "status and action": { status: "failed", action: "SCALE_AI_CREATE_BATCH" },
    "action and connection_id": { action: "SCALE_AI_LIST_PROJECTS", connection_id: "CONNECTION_1" },
    "connection_id and status": { connection_id: "CONNECTION_1", status: "succeeded" },
    "error_code and action": { error_code: "UPSTREAM_BAD_REQUEST", action: "SCALE_AI_GET_BATCH" },
    "action in a window": { action: "SCALE_AI_CREATE_BATCH", created_after: "2026-10-01T00:20:00Z", created_before: "2026-10-01T02:00:00Z" },
    "everything at once": { action: "SCALE_AI_CREATE_BATCH", status: "failed", connection_id: "CONNECTION_0", error_code: "UPSTREAM_RATE_LIMITED", created_before: "2026-10-01T03:00:00Z" },
    "no match": { action: "SCALE_AI_UPLOAD_FILE" },
  };
  for (const [name, raw] of Object.entries(filters)) {
    it(`filters by ${name}, on one page and across pages of 7`, async () => {
      const query = Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, v.replace(/^CONNECTION_(\d)$/, (_, i: string) => connections[Number(i)]!)]));
      const want = expected(query);
      if (name !== "no match") expect(want.length, "the fixture must exercise this filter").toBeGreaterThan(0);
      const one = await list(a.apiKey, { ...query, limit: 200 });
      expect(one.status).toBe(200);
      expect(one.body.runs.map((r) => r.id)).toEqual(want);
      expect((await listAll(a.apiKey, { ...query, limit: 7 })).map((r) => r.id)).toEqual(want);
    });
  }

  it("treats created_after as inclusive and created_before as exclusive, to the millisecond", async () => {
    const at = fixture[10]!.createdAt!.toISOString();
    const after = (await list(a.apiKey, { created_after: at, limit: 200 })).body.runs.map((r) => r.id);
    const before = (await list(a.apiKey, { created_before: at, limit: 200 })).body.runs.map((r) => r.id);
    expect(after).toContain(fixture[10]!.id);
    expect(before).not.toContain(fixture[10]!.id);
    expect(after.length + before.length).toBe(fixture.length);
  });

  it("pages with a cursor: every run exactly once, in order, ties on created_at broken by id", async () => {
    const paged = await listAll(a.apiKey, { limit: 1 });
    expect(paged.map((r) => r.id)).toEqual(expected({}));
  });

  it("answers 50 runs by default and at most 200", async () => {
    const first = await list(a.apiKey);
    expect(first.body.runs).toHaveLength(50);
    expect(first.body.next_cursor).toEqual(expect.any(String));
    expect((await list(a.apiKey, { limit: 200 })).body.runs).toHaveLength(150);
    for (const limit of [0, 201, -1, 1.5, "ten"]) {
      const res = await list(a.apiKey, { limit });
      expect(res.status, String(limit)).toBe(400);
      expect(res.body.error!.code).toBe("VALIDATION_FAILED");
    }
  });

  it("answers 400 INVALID_CURSOR for a cursor it did not issue", async () => {
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
    const id = fixture[0]!.id;
    const bad = [
      "garbage!", "bm90IGpzb24", b64(["2026-10-01T00:00:00.000Z", id]), b64({ t: "2026-10-01T00:00:00.000Z" }),
      b64({ t: "2026-10-01T00:00:00.000Z", i: "not-a-uuid" }), b64({ t: "2026-02-31T00:00:00.000Z", i: id }),
      b64({ t: "yesterday", i: id }), b64({ t: "2026-10-01T00:00:00.000Z", i: id, x: 1 }), b64({ t: 1, i: id }),
    ];
    for (const cursor of bad) {
      const res = await list(a.apiKey, { cursor });
      expect(res.status, cursor).toBe(400);
      expect(res.body.error!.code, cursor).toBe("INVALID_CURSOR");
    }
    const tooLong = await list(a.apiKey, { cursor: "a".repeat(600) });
    expect(tooLong.status).toBe(400);
  });

  it("validates every filter before querying", async () => {
    const bad: Record<string, string>[] = [
      { status: "done" }, { status: "" }, { action: "scale_ai_create_batch" }, { action: "X".repeat(200) }, { connection_id: "42" },
      { error_code: "lower" }, { idempotency_key: "has space" }, { idempotency_key: "k".repeat(256) },
      { created_after: "yesterday" }, { created_after: "2026-10-01T00:00:00" }, { created_before: "2026-13-01T00:00:00Z" }, { workspace_id: b.id },
    ];
    for (const query of bad) {
      const res = await list(a.apiKey, query);
      expect(res.status, JSON.stringify(query)).toBe(400);
      expect(res.body.error!.code).toBe("VALIDATION_FAILED");
    }
  });

  it("never lists another workspace's runs, whatever the filters or cursor", async () => {
    const ofB = await listAll(b.apiKey, { limit: 9 });
    expect(ofB).toHaveLength(40);
    const aIds = new Set(fixture.map((r) => r.id));
    expect(ofB.some((r) => aIds.has(r.id))).toBe(false);
    // b's cursor used by a positions a's history, it does not reach b's runs.
    const bPage = await list(b.apiKey, { limit: 5 });
    const withForeignCursor = await listAll(a.apiKey, { cursor: bPage.body.next_cursor!, limit: 50 });
    expect(withForeignCursor.every((r) => aIds.has(r.id))).toBe(true);
    // The same idempotency key exists in both workspaces: each sees its own run.
    const mine = await list(a.apiKey, { idempotency_key: "key-0" });
    const theirs = await list(b.apiKey, { idempotency_key: "key-0" });
    expect(mine.body.runs).toHaveLength(1);
    expect(theirs.body.runs).toHaveLength(1);
    expect(mine.body.runs[0]!.id).not.toBe(theirs.body.runs[0]!.id);
  });

  it("relies on a closed set of statuses, and on finished_at and error_code matching the status, which the table enforces", async () => {
    // ?status= reads live runs from the index WHERE finished_at IS NULL, and failed, canceled or unknown ones from the
    // one WHERE error_code IS NOT NULL (list-runs.ts): a row off those rules would be missing from its status's pages.
    const insert = (status: string, finished: boolean, errorCode: string | null) => t.db.pool.query(
      `INSERT INTO run (id, workspace_id, integration, action, schema_version, status, input, error_code, finished_at)
       VALUES ($1, $2, 'scale_ai', 'SCALE_AI_LIST_PROJECTS', 1, $3, '{}', $4, CASE WHEN $5::boolean THEN now() END)`,
      [randomUUID(), a.id, status, errorCode, finished]);
    await expect(insert("paused", true, "X")).rejects.toThrow(/run_status_check/);
    await expect(insert("succeeded", false, null)).rejects.toThrow(/run_finished_check/);
    await expect(insert("queued", true, null)).rejects.toThrow(/run_finished_check/);
    await expect(insert("running", true, null)).rejects.toThrow(/run_finished_check/);
    for (const status of ["failed", "canceled", "unknown"]) await expect(insert(status, true, null)).rejects.toThrow(/run_error_code_check/);
    await t.db.pool.query("BEGIN");
    try {
      // Within the rules, each is accepted (and rolled back: the other tests count this workspace's runs).
      for (const [status, finished, code] of [["queued", false, null], ["running", false, null], ["succeeded", true, null], ["failed", true, "UPSTREAM_BAD_REQUEST"]] as const) {
        await insert(status, finished, code);
      }
    } finally {
      await t.db.pool.query("ROLLBACK");
    }
  });

  it("needs a workspace key", async () => {
    const res = await t.app.inject({ method: "GET", url: "/v1/runs" });
    expect(res.statusCode).toBe(401);
  });
});

describe("paging while runs are added", () => {
  it("yields each run that existed when paging began exactly once, for status=failed&action=SCALE_AI_CREATE_BATCH", async () => {
    const ws = await t.createWorkspace("busy");
    const start = Date.now() - 3_600_000;
    const initial: SeedRun[] = Array.from({ length: 60 }, (_, i) => ({
      workspaceId: ws.id, createdAt: new Date(start + i * 1_000),
      action: i % 3 === 0 ? "SCALE_AI_LIST_PROJECTS" : "SCALE_AI_CREATE_BATCH",
      status: i % 4 === 0 ? "succeeded" : "failed",
    }));
    const ids = await seedRuns(t.db.pool, initial);
    const want = ids.filter((_, i) => initial[i]!.action === "SCALE_AI_CREATE_BATCH" && initial[i]!.status === "failed").reverse();
    expect(want.length).toBeGreaterThan(20);

    const added: string[] = [];
    const paged = await listAll(ws.apiKey, { status: "failed", action: "SCALE_AI_CREATE_BATCH", limit: 4 }, async () => {
      // New matching (and non-matching) runs arrive between two pages, some in the same millisecond.
      const now = new Date();
      added.push(...await seedRuns(t.db.pool, [
        { workspaceId: ws.id, createdAt: now, action: "SCALE_AI_CREATE_BATCH", status: "failed" },
        { workspaceId: ws.id, createdAt: now, action: "SCALE_AI_CREATE_BATCH", status: "failed" },
        { workspaceId: ws.id, createdAt: now, action: "SCALE_AI_CREATE_BATCH", status: "succeeded" },
      ]));
    });
    expect(added.length).toBeGreaterThan(10);
    expect(paged.map((r) => r.id)).toEqual(want);
    expect(new Set(paged.map((r) => r.id)).size).toBe(paged.length);
    // A new listing starts with the new runs.
    const fresh = await list(ws.apiKey, { status: "failed", action: "SCALE_AI_CREATE_BATCH", limit: 1 });
    expect(added).toContain(fresh.body.runs[0]!.id);
  });

  it("keeps the order of runs created by the database clock in the same millisecond", async () => {
    const ws = await t.createWorkspace("same-ms");
    // created_at from now() of one statement: every row shares it; ids alone order them.
    const { rows } = await t.db.pool.query<{ id: string }>(
      `INSERT INTO run (id, workspace_id, integration, action, schema_version, status, input)
       SELECT gen_random_uuid(), $1, 'scale_ai', 'SCALE_AI_LIST_PROJECTS', 1, 'queued', '{}' FROM generate_series(1, 12) RETURNING id`,
      [ws.id],
    );
    const want = rows.map((r) => r.id).sort().reverse();
    expect((await listAll(ws.apiKey, { limit: 5 })).map((r) => r.id)).toEqual(want);
    expect((await listAll(ws.apiKey, { action: "SCALE_AI_LIST_PROJECTS", limit: 5 })).map((r) => r.id)).toEqual(want);
  });
});
