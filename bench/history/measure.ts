// Timing and plans of the history benchmark. The two cores are shared with PostgreSQL, so only figures measured in
// the same run compare (ENVIRONMENT.md): the two tables are sampled in alternating rounds.
import type pg from "pg";
import { createRunLister, deleteExpiredRuns, pageSql } from "@nagent/runs";
import { PAGE, type BenchCase, type WorkspaceFacts } from "./cases";

export interface Latency {
  readonly p50: number;
  readonly p99: number;
  readonly n: number;
}

export interface Target {
  readonly pool: pg.Pool;
  readonly facts: readonly WorkspaceFacts[];
}

/**
 * Milliseconds of one page through `createRunLister` (the API's query: SQL built, run on the pool, rows read), for
 * every case on both tables: `rounds` rounds, each taking `perRound` samples of every case on the large table, then on
 * the small one; the workspace of a sample on the large table goes round all its workspaces.
 */
export async function measureCases(cases: readonly BenchCase[], large: Target, small: Target, rounds: number, perRound: number): Promise<{ large: Latency; small: Latency }[]> {
  const samples = cases.map(() => ({ large: [] as number[], small: [] as number[] }));
  const listers = { large: createRunLister(large.pool), small: createRunLister(small.pool) };
  let turn = 0;
  for (let round = -1; round < rounds; round++) {
    for (const [k, c] of cases.entries()) {
      for (const side of ["large", "small"] as const) {
        const target = side === "large" ? large : small;
        for (let i = 0; i < perRound; i++) {
          const facts = target.facts[turn++ % target.facts.length]!;
          const query = { ...c.query(facts), limit: PAGE };
          const start = process.hrtime.bigint();
          const page = await listers[side].list(facts.id, query);
          const ms = Number(process.hrtime.bigint() - start) / 1e6;
          if (page.runs.length === 0) throw new Error(`${c.name}: an empty page measures nothing`);
          // Round -1 warms the caches and the code paths; it is not kept.
          if (round >= 0) samples[k]![side].push(ms);
        }
      }
    }
  }
  return samples.map((s) => ({ large: summarise(s.large), small: summarise(s.small) }));
}

function summarise(values: number[]): Latency {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
  return { p50: at(0.5), p99: at(0.99), n: sorted.length };
}

export interface PlanSummary {
  /** e.g. "Index Scan run_errored_workspace_id_created_at_id_idx" or "Merge Append of 5 × Index Scan …". */
  readonly access: string;
  readonly buffers: number;
  readonly rows: number;
  readonly ms: number;
}

/** EXPLAIN (ANALYZE, BUFFERS) of one case's page query for one workspace: how it reads, and how much. */
export async function explainCase(pool: pg.Pool, c: BenchCase, facts: WorkspaceFacts): Promise<PlanSummary> {
  const { sql, params } = pageSql(facts.id, c.query(facts), PAGE);
  const { rows } = await pool.query<{ "QUERY PLAN": [{ Plan: PlanNode; "Execution Time": number }] }>(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${sql}`, params);
  const top = rows[0]!["QUERY PLAN"][0];
  const scans: string[] = [];
  let sort = false;
  let merge = false;
  const walk = (node: PlanNode): void => {
    if (node["Index Name"]) scans.push(`${node["Node Type"]} ${node["Index Name"]}`);
    else if (node["Node Type"] === "Seq Scan") scans.push("Seq Scan");
    if (node["Node Type"] === "Sort") sort = true;
    if (node["Node Type"] === "Merge Append") merge = true;
    node.Plans?.forEach(walk);
  };
  walk(top.Plan);
  const distinct = [...new Set(scans)];
  const access = (merge ? `Merge Append of ${scans.length} × ` : "") + distinct.join(" + ") + (sort ? " + Sort" : "");
  return { access, buffers: (top.Plan["Shared Hit Blocks"] ?? 0) + (top.Plan["Shared Read Blocks"] ?? 0), rows: top.Plan["Actual Rows"] ?? 0, ms: top["Execution Time"] };
}

interface PlanNode {
  readonly "Node Type": string;
  readonly "Index Name"?: string;
  readonly "Shared Hit Blocks"?: number;
  readonly "Shared Read Blocks"?: number;
  readonly "Actual Rows"?: number;
  readonly Plans?: PlanNode[];
}

/** Milliseconds of each of `batches` retention batches of `batchSize` on the large table (the longest any row lock is held). */
export async function measureRetention(pool: pg.Pool, retentionDays: number, batches: number, batchSize: number): Promise<{ deleted: number; medianMs: number; maxMs: number }> {
  const times: number[] = [];
  let deleted = 0;
  for (let i = 0; i < batches; i++) {
    const start = process.hrtime.bigint();
    const result = await deleteExpiredRuns(pool, { retentionDays, batchSize, maxBatches: 1 });
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
    deleted += result.deleted;
  }
  const sorted = [...times].sort((a, b) => a - b);
  return { deleted, medianMs: sorted[Math.floor(sorted.length / 2)]!, maxMs: sorted.at(-1)! };
}
