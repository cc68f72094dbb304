// The run table's partial indexes (migrations 20261207000000_run_partial_history_indexes, 20261207120000_run_hot_updates
// and 20261207130000_run_partial_idempotency_key): a run is in an index only when it has what the index looks for (an
// error code, a tool set, an Idempotency-Key, being live, having ended), the list queries read a page through them with the plan made for any value
// (generic) as with the value known (custom), and no index holds a column a run's claim changes, so that the claim
// is a HOT update (a new row version with no index entry).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pg from "pg";
import { uuidv7 } from "@nagent/db";
import { createRunStore, pageSql, type ListRunsQuery } from "@nagent/runs";
import { createTestDatabase, type TestDatabase } from "../../support/database";
import { flushStatistics, seedConnection, seedRuns, seedWorkspace } from "./seed";

const ERROR_INDEX = "run_workspace_id_error_code_created_at_id_idx";
const TOOLSET_INDEX = "run_workspace_id_toolset_id_created_at_id_idx";
const ERRORED_INDEX = "run_errored_workspace_id_created_at_id_idx";
const LIVE_INDEX = "run_live_workspace_id_created_at_id_idx";
const FINISHED_INDEX = "run_finished_at_idx";
const IDEMPOTENCY_INDEX = "run_workspace_id_idempotency_key_key";
/** What a claim (queued → running) changes: the columns no index may hold. */
const CLAIM_COLUMNS = ["status", "updated_at", "started_at", "attempt_started_at", "attempts_count", "status_reason", "next_attempt_at", "waiting"];

let db: TestDatabase;
let workspaceId: string;
let connectionId: string;
const toolsetId = uuidv7();

beforeAll(async () => {
  db = await createTestDatabase();
  workspaceId = await seedWorkspace(db.pool, "partial-indexes");
  connectionId = await seedConnection(db.pool, workspaceId);
  // 2,000 runs: 1,790 succeeded (no error code), 150 failed with one, 50 queued and 10 running; 60 made over MCP
  // through a tool set; 25 with an Idempotency-Key.
  const status = (i: number) => (i % 40 < 3 ? "failed" as const : i % 40 === 3 ? "queued" as const : i % 200 === 4 ? "running" as const : "succeeded" as const);
  const ids = await seedRuns(db.pool, Array.from({ length: 2_000 }, (_, i) => ({ workspaceId, connectionId, status: status(i), action: i % 2 ? "SCALE_AI_LIST_PROJECTS" : "SCALE_AI_CREATE_BATCH" })));
  await db.pool.query(`UPDATE run SET source = 'mcp', toolset_id = $1 WHERE id = ANY($2::uuid[])`, [toolsetId, ids.filter((_, i) => i % 33 === 0).slice(0, 60)]);
  await db.pool.query(`UPDATE run SET idempotency_key = 'key-' || id WHERE id = ANY($1::uuid[])`, [ids.filter((_, i) => i % 80 === 7)]);
  await db.pool.query("VACUUM ANALYZE run"); // sets each index's reltuples to its entry count
});
afterAll(async () => {
  await db?.drop();
});

async function entries(index: string): Promise<number> {
  return (await db.pool.query<{ n: number }>(`SELECT reltuples::int AS n FROM pg_class WHERE relname = $1`, [index])).rows[0]!.n;
}

/** The indexes a page query scans, with the plan PostgreSQL makes for any value (generic) or for this one (custom). */
async function scannedIndexes(query: ListRunsQuery, mode: "force_generic_plan" | "force_custom_plan"): Promise<string[]> {
  const client = await db.pool.connect();
  try {
    await client.query(`SET plan_cache_mode = ${mode}`);
    const { sql, params } = pageSql(workspaceId, query, 51);
    // A prepared statement (its parameters typed from the query) and its plan for these values; EXECUTE takes its
    // arguments as literals (a utility statement has no parameters of its own).
    const statement = `page_${mode}_${Object.keys(query).join("_")}`;
    await client.query(`PREPARE ${statement} AS ${sql}`);
    const { rows } = await client.query<{ "QUERY PLAN": [{ Plan: PlanNode }] }>(
      `EXPLAIN (FORMAT JSON) EXECUTE ${statement}(${params.map((v) => client.escapeLiteral(String(v))).join(", ")})`);
    const found: string[] = [];
    const walk = (node: PlanNode): void => {
      if (node["Index Name"]) found.push(node["Index Name"]);
      if (node["Node Type"] === "Seq Scan") found.push("Seq Scan");
      node.Plans?.forEach(walk);
    };
    walk(rows[0]!["QUERY PLAN"][0].Plan);
    return found;
  } finally {
    await client.query("RESET plan_cache_mode; DEALLOCATE ALL");
    client.release();
  }
}
interface PlanNode { "Node Type": string; "Index Name"?: string; Plans?: PlanNode[] }

async function page(query: ListRunsQuery): Promise<{ status: string; error_code: string | null }[]> {
  const { sql, params } = pageSql(workspaceId, query, 200);
  return (await db.pool.query<{ status: string; error_code: string | null }>(sql, params)).rows;
}

describe("partial history indexes", () => {
  it("hold only the runs with an error code, a tool set, an Idempotency-Key, still live, or ended", async () => {
    expect(await entries(ERROR_INDEX)).toBe(150);
    expect(await entries(ERRORED_INDEX)).toBe(150);
    expect(await entries(TOOLSET_INDEX)).toBe(60);
    expect(await entries(LIVE_INDEX)).toBe(60);
    expect(await entries(FINISHED_INDEX)).toBe(1_940);
    expect(await entries(IDEMPOTENCY_INDEX)).toBe(25);
    // The unfiltered history index holds every run.
    expect(await entries("run_workspace_id_created_at_id_idx")).toBe(2_000);
  });

  for (const mode of ["force_generic_plan", "force_custom_plan"] as const) {
    it(`serve ?error_code=, ?toolset_id= and the statuses they hold (${mode})`, async () => {
      // Either partial index holding error codes serves ?error_code= (the planner weighs the code's share of errors).
      expect([[ERROR_INDEX], [ERRORED_INDEX]]).toContainEqual(await scannedIndexes({ errorCode: "UPSTREAM_BAD_REQUEST" }, mode));
      expect(await scannedIndexes({ toolsetId }, mode)).toEqual([TOOLSET_INDEX]);
      for (const status of ["failed", "canceled", "unknown"] as const) expect(await scannedIndexes({ status }, mode)).toEqual([ERRORED_INDEX]);
      for (const status of ["queued", "running"] as const) expect(await scannedIndexes({ status }, mode)).toEqual([LIVE_INDEX]);
    });
  }

  it("list the runs of each status, and those of an error code", async () => {
    const counts = { failed: 150, queued: 50, running: 10, canceled: 0, unknown: 0 } as const;
    for (const [status, n] of Object.entries(counts)) {
      const rows = await page({ status: status as keyof typeof counts });
      expect(rows, status).toHaveLength(n);
      expect(rows.every((r) => r.status === status), status).toBe(true);
    }
    const byCode = await page({ errorCode: "UPSTREAM_BAD_REQUEST" });
    expect(byCode).toHaveLength(150);
    expect(new Set(byCode.map((r) => r.error_code))).toEqual(new Set(["UPSTREAM_BAD_REQUEST"]));
    expect(await page({ toolsetId })).toHaveLength(60);
    expect(await page({ status: "queued", action: "SCALE_AI_LIST_PROJECTS" })).toHaveLength(50);
    const keyed = await page({ idempotencyKey: (await db.pool.query<{ k: string }>("SELECT idempotency_key AS k FROM run WHERE idempotency_key IS NOT NULL LIMIT 1")).rows[0]!.k });
    expect(keyed).toHaveLength(1);
  });
});

describe("a run's claim", () => {
  it("changes no column that an index of the run table holds (in its columns, expressions or predicate)", async () => {
    const { rows } = await db.pool.query<{ name: string; def: string }>(
      `SELECT c.relname AS name, pg_get_indexdef(i.indexrelid) AS def FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = 'run'::regclass`);
    expect(rows.length).toBeGreaterThanOrEqual(9);
    const holding = rows.flatMap((r) => CLAIM_COLUMNS.filter((col) => new RegExp(`\\b${col}\\b`).test(r.def.replace(/^.*? USING /, ""))).map((col) => `${r.name}: ${col}`));
    expect(holding).toEqual([]);
  });

  it("is a HOT update: a new row version with no index entry", async () => {
    const session = new pg.Pool({ connectionString: db.url, max: 1 });
    const store = createRunStore(session);
    const stats = async () => {
      await flushStatistics(session);
      const { rows } = await db.pool.query<{ upd: string; hot: string }>("SELECT n_tup_upd AS upd, n_tup_hot_upd AS hot FROM pg_stat_user_tables WHERE relname = 'run'");
      return { updates: Number(rows[0]!.upd), hot: Number(rows[0]!.hot) };
    };
    try {
      const ids = Array.from({ length: 20 }, () => uuidv7());
      for (const id of ids) {
        const inserted = await store.insert({ id, workspaceId, connectionId, integration: "scale_ai", action: "SCALE_AI_LIST_PROJECTS", schemaVersion: 1, input: {}, idempotencyKey: null, requestHash: null });
        expect(inserted.kind).toBe("created");
      }
      const before = await stats();
      for (const id of ids) expect((await store.claim(id))?.attempt).toBe(1);
      const after = await stats();
      expect(after.updates - before.updates).toBe(ids.length);
      expect(after.hot - before.hot).toBe(ids.length);
    } finally {
      await session.end();
    }
  });
});
