// Run history benchmark: `npx tsx bench/history/index.ts`, or `run()` from the bench runner (`npm run bench`).
//
// The list query of GET /v1/runs (packages/runs/src/list-runs.ts) on a 1,000,000-run table of 100 workspaces
// (10,000 runs each), against the same queries on a 10,000-run table holding one workspace of the same history: the
// same workspace-sized result, with and without 99 other workspaces' runs around it. For every filter, the issue's
// combination and deep pages it prints how PostgreSQL reads the page (EXPLAIN ANALYZE, BUFFERS, on the large table)
// and p50/p99 on both tables, sampled in alternating rounds. Target (issue 7): p99 under 20 ms for every case on the
// large table, and under 3× the small table's p99. Then the cost of retention batches on the large table.
//
// It creates its own databases (`nagent_bench_history`, `nagent_bench_history_small`) and drops them at the end.
// Takes about two minutes here, most of it seeding.
import { pathToFileURL } from "node:url";
import { dropDatabase, withDatabase } from "../lib/database";
import pg from "pg";
import { configFromProcess } from "@nagent/config";
import { migrate, MIGRATIONS_DIR } from "@nagent/db";
import { CASES, prepare } from "./cases";
import { explainCase, measureCases, measureRetention, type Latency } from "./measure";
import { seedHistory, HISTORY_DAYS } from "./seed";

const LARGE = { db: "nagent_bench_history", workspaces: 100, runs: 1_000_000 };
const SMALL = { db: "nagent_bench_history_small", workspaces: 1, runs: 10_000 };
const ROUNDS = 20;
const PER_ROUND = 50;
const TARGET_P99_MS = 20;
const TARGET_RATIO = 3;

export interface HistoryBenchResult {
  readonly cases: readonly { name: string; large: Latency; small: Latency; ratio: number; pass: boolean }[];
  readonly bytesPerRun: number;
  readonly retention: { deleted: number; medianMs: number; maxMs: number };
  readonly pass: boolean;
}

export async function run(): Promise<HistoryBenchResult> {
  const { config } = configFromProcess({ generate: false, secrets: false });
  const urls = { large: withDatabase(config.databaseUrl, LARGE.db), small: withDatabase(config.databaseUrl, SMALL.db) };
  console.log(`history benchmark: GET /v1/runs's query on ${fmt(LARGE.runs)} runs in ${LARGE.workspaces} workspaces against one workspace's ${fmt(SMALL.runs)} runs alone, measured alternately in this run`);
  const pools: pg.Pool[] = [];
  try {
    for (const url of Object.values(urls)) {
      await dropDatabase(url);
      await migrate({ url, dir: MIGRATIONS_DIR });
    }
    const large = await seedHistory(urls.large, LARGE.workspaces, LARGE.runs);
    const small = await seedHistory(urls.small, SMALL.workspaces, SMALL.runs);
    const [largePool, smallPool] = [new pg.Pool({ connectionString: urls.large, max: 2 }), new pg.Pool({ connectionString: urls.small, max: 2 })];
    pools.push(largePool, smallPool);
    const size = await tableSize(largePool);
    const bytesPerRun = size.total / LARGE.runs;
    console.log(`  seeded ${fmt(LARGE.runs)} runs over ${HISTORY_DAYS} days in ${large.seconds.toFixed(0)} s, ${fmt(SMALL.runs)} in ${small.seconds.toFixed(1)} s; ` +
      `the large run table: heap ${mb(size.heap)} (TOAST included), indexes ${mb(size.indexes)}, ${(bytesPerRun / 1024).toFixed(2)} KiB a run`);

    const facts = { large: await prepare(largePool, large), small: await prepare(smallPool, small) };
    console.log(`  plans on the large table, one workspace, limit 50 (EXPLAIN ANALYZE, BUFFERS):`);
    for (const c of CASES) {
      const plan = await explainCase(largePool, c, facts.large[0]!);
      console.log(`    ${c.name.padEnd(36)} ${plan.access}; ${plan.buffers} buffers, ${plan.rows} rows, ${plan.ms.toFixed(2)} ms`);
    }

    const measured = await measureCases(CASES, { pool: largePool, facts: facts.large }, { pool: smallPool, facts: facts.small }, ROUNDS, PER_ROUND);
    console.log(`  one page (limit 50) through createRunLister, p50 / p99 of ${fmt(ROUNDS * PER_ROUND)} calls each:`);
    console.log(`    ${"case".padEnd(36)} ${"1M runs".padEnd(18)} ${"10k runs".padEnd(18)} p99 ratio`);
    const cases = CASES.map((c, k) => {
      const { large: l, small: s } = measured[k]!;
      const ratio = l.p99 / s.p99;
      const pass = l.p99 < TARGET_P99_MS && ratio < TARGET_RATIO;
      console.log(`    ${c.name.padEnd(36)} ${pair(l).padEnd(18)} ${pair(s).padEnd(18)} ${ratio.toFixed(2).padStart(5)}  ${pass ? "PASS" : "FAIL"}`);
      return { name: c.name, large: l, small: s, ratio, pass };
    });

    // Runs older than 29 days: the first day of the 30 seeded, ~33,000 runs.
    const retention = await measureRetention(largePool, HISTORY_DAYS - 1, 10, 1_000);
    console.log(`  retention on the large table: ${retention.deleted} expired runs deleted in 10 batches of 1,000, ` +
      `${retention.medianMs.toFixed(1)} ms median, ${retention.maxMs.toFixed(1)} ms max per batch (the longest a row lock is held)`);

    const pass = cases.every((c) => c.pass);
    console.log(`  RESULT: ${pass ? "PASS" : "FAIL"} (target: p99 < ${TARGET_P99_MS} ms on the 1M table and < ${TARGET_RATIO}× the 10k table's p99, for every case)`);
    return { cases, bytesPerRun, retention, pass };
  } finally {
    await Promise.allSettled(pools.map((p) => p.end()));
    for (const url of Object.values(urls)) await dropDatabase(url);
  }
}

async function tableSize(pool: pg.Pool): Promise<{ heap: number; indexes: number; total: number }> {
  const { rows } = await pool.query<{ heap: string; indexes: string; total: string }>(
    `SELECT pg_table_size('run') AS heap, pg_indexes_size('run') AS indexes, pg_total_relation_size('run') AS total`,
  );
  return { heap: Number(rows[0]!.heap), indexes: Number(rows[0]!.indexes), total: Number(rows[0]!.total) };
}

const fmt = (n: number) => n.toLocaleString("en-US");
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
const ms = (v: number) => (v < 10 ? v.toFixed(2) : v.toFixed(1));
const pair = (l: Latency) => `${ms(l.p50)} / ${ms(l.p99)} ms`;



if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await run();
  if (!result.pass) process.exitCode = 1;
}
