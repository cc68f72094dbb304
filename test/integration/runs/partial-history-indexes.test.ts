// The run history's indexes on nullable columns are partial (migration 20261207000000_run_partial_history_indexes):
// a run without an error code or a tool set has no entry in them, and the list queries that filter on those columns
// still read a page through them, with the plan made for any value (generic) as with the value known (custom).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pg from "pg";
import { uuidv7 } from "@nagent/db";
import { pageSql, type ListRunsQuery } from "@nagent/runs";
import { createTestDatabase, type TestDatabase } from "../../support/database";
import { seedRuns, seedWorkspace } from "./seed";

const ERROR_INDEX = "run_workspace_id_error_code_created_at_id_idx";
const TOOLSET_INDEX = "run_workspace_id_toolset_id_created_at_id_idx";

let db: TestDatabase;
let workspaceId: string;
const toolsetId = uuidv7();

beforeAll(async () => {
  db = await createTestDatabase();
  workspaceId = await seedWorkspace(db.pool, "partial-indexes");
  // 2,000 runs: 1,850 succeeded (no error code), 150 failed with one; 60 of them made over MCP through a tool set.
  const ids = await seedRuns(db.pool, Array.from({ length: 2_000 }, (_, i) => ({ workspaceId, status: i % 40 < 3 ? "failed" as const : "succeeded" as const })));
  await db.pool.query(`UPDATE run SET source = 'mcp', toolset_id = $1 WHERE id = ANY($2::uuid[])`, [toolsetId, ids.filter((_, i) => i % 33 === 0).slice(0, 60)]);
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
    const name = `page-${mode}-${Object.keys(query).join("-")}`;
    // A prepared statement (its parameters typed from the query) and its plan for these values; EXECUTE takes its
    // arguments as literals (a utility statement has no parameters of its own).
    const statement = name.replace(/-/g, "_");
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

describe("partial history indexes", () => {
  it("hold only the runs with an error code, or with a tool set", async () => {
    expect(await entries(ERROR_INDEX)).toBe(150);
    expect(await entries(TOOLSET_INDEX)).toBe(60);
    // The unfiltered history index holds every run.
    expect(await entries("run_workspace_id_created_at_id_idx")).toBe(2_000);
  });

  for (const mode of ["force_generic_plan", "force_custom_plan"] as const) {
    it(`serve ?error_code= and ?toolset_id= (${mode})`, async () => {
      expect(await scannedIndexes({ errorCode: "UPSTREAM_BAD_REQUEST" }, mode)).toEqual([ERROR_INDEX]);
      expect(await scannedIndexes({ toolsetId }, mode)).toEqual([TOOLSET_INDEX]);
    });
  }

  it("list the same runs as before", async () => {
    const { sql, params } = pageSql(workspaceId, { errorCode: "UPSTREAM_BAD_REQUEST" }, 200);
    const { rows } = await db.pool.query<{ error_code: string }>(sql, params);
    expect(rows).toHaveLength(150);
    expect(new Set(rows.map((r) => r.error_code))).toEqual(new Set(["UPSTREAM_BAD_REQUEST"]));
    const byToolset = pageSql(workspaceId, { toolsetId }, 200);
    expect((await db.pool.query(byToolset.sql, byToolset.params)).rows).toHaveLength(60);
  });
});
