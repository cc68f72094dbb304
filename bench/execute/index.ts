// Execution benchmark: `npx tsx bench/execute/index.ts`, or `run()` from the bench runner.
//
// Measures, in one run on this machine, against the Scale AI sandbox on loopback, with the API, the worker and the
// sandbox as separate processes (as deployed) and this process as the load generator:
//   (a) a direct HTTP call to the sandbox (the floor of any execute),
//   (b) BullMQ's no-op ceiling (addBulk, worker concurrency 100; the median of three rounds),
//   (c) sync execute latency p50/p99 at concurrency 1, and its overhead over (a),
//   (d) async throughput at concurrency 64 (accepted → finished), and its ratio to (b),
//   (e) the worker's RSS after warm-up and after 20,000 more runs.
// Targets (issue 6): (c) overhead p50 ≤ 5 ms; (d) ≥ 20 % of (b); (e) growth < 20 %.
// It creates its own database (`nagent_bench_execute`) and queue prefix, and removes both at the end.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { configFromProcess } from "@nagent/config";
import { migrate, MIGRATIONS_DIR } from "@nagent/db";
import { dropDatabase, withDatabase } from "../lib/database";
import { freePort, startChild, waitFor, type Child } from "../lib/processes";
import { leanFlood, openLeanConnection } from "../lib/lean-http";
import { clearPrefix, measureBullmqCeiling } from "./bullmq-ceiling";
import { workerNodeArgs } from "../../apps/worker/src/node-args";
import { percentile, fmtMs } from "../lib/stats";

const DB_NAME = "nagent_bench_execute";
const WARMUP_RUNS = 10_000;
const MEASURED_RUNS = 20_000;
const ASYNC_CONCURRENCY = 64;
const SYNC_SAMPLES = 500;
const DIRECT_SAMPLES = 1_000;
const CEILING_ROUNDS = 3;

export interface ExecuteBenchResult {
  readonly direct: { p50: number; p99: number };
  readonly ceilingJobsPerSec: number;
  readonly sync: { p50: number; p99: number; overheadP50: number };
  readonly asyncRunsPerSec: number;
  readonly rss: { afterWarmupMb: number; afterMb: number; growth: number };
  readonly pass: boolean;
}

export async function run(): Promise<ExecuteBenchResult> {
  const { config } = configFromProcess({ generate: false, secrets: false });
  const dbUrl = withDatabase(config.databaseUrl, DB_NAME);
  const prefix = `nbench${randomBytes(4).toString("hex")}`;
  console.log("execute benchmark: API, worker and Scale sandbox as separate processes on loopback; this process generates the load");

  // (b) varies by ±15 % from one 20,000-job round to the next on these machines: the baseline is the median of three.
  const rounds: number[] = [];
  for (let i = 0; i < CEILING_ROUNDS; i++) rounds.push((await measureBullmqCeiling(config.redisUrl, `${prefix}c${i}`, 20_000, 100)).jobsPerSec);
  const ceiling = { jobsPerSec: percentile(rounds, 50) };
  console.log(`(b) BullMQ no-op ceiling: ${Math.round(ceiling.jobsPerSec).toLocaleString("en")} jobs/s, median of ${CEILING_ROUNDS} rounds (${rounds.map((r) => Math.round(r).toLocaleString("en")).join(", ")}) of 20,000 jobs, addBulk, worker concurrency 100`);

  await dropDatabase(dbUrl);
  await migrate({ url: dbUrl, dir: MIGRATIONS_DIR });
  const scaleKey = `test_${randomBytes(12).toString("hex")}`;
  const adminToken = `nat_${randomBytes(32).toString("base64url")}`;
  const [sandboxPort, apiPort] = [await freePort(), await freePort()];
  const sandboxUrl = `http://127.0.0.1:${sandboxPort}`;
  const api = `http://127.0.0.1:${apiPort}`;
  const env: NodeJS.ProcessEnv = {
    PATH: process.env["PATH"], HOME: process.env["HOME"],
    NODE_ENV: "production", LOG_LEVEL: "warn",
    DATABASE_URL: dbUrl, REDIS_URL: config.redisUrl, NAGENT_QUEUE_PREFIX: prefix,
    NAGENT_ADMIN_TOKEN: adminToken, NAGENT_MASTER_KEYS: `v1:${randomBytes(32).toString("base64")}`,
    NAGENT_SCALE_BASE_URL: sandboxUrl, NAGENT_ALLOW_PRIVATE_EGRESS: "true",
    // Measure the platform, not its politeness: no rate limit or workspace cap in the way.
    NAGENT_CONNECTION_RATE_PER_SEC: "10000", NAGENT_WORKSPACE_CONCURRENCY: "10000",
    HOST: "127.0.0.1", PORT: String(apiPort), SANDBOX_PORT: String(sandboxPort), SANDBOX_KEYS: scaleKey,
  };
  const children: Child[] = [];
  try {
    children.push(startChild("sandbox", "apps/scale-sandbox/src/main.ts", env));
    children.push(startChild("api", "apps/api/src/server.ts", env));
    const worker = startChild("worker", "apps/worker/src/main.ts", env, workerNodeArgs(config));
    children.push(worker);
    await waitFor(async () => {
      const dead = children.find((c) => c.exited());
      if (dead) throw new Error(`${dead.name} exited during start`);
      return (await fetch(`${api}/readyz`).catch(() => null))?.status === 200;
    }, 60_000, "API readiness");
    await waitFor(async () => (await fetch(`${sandboxUrl}/v1/projects`, { headers: basic(scaleKey) }).catch(() => null))?.status === 200, 30_000, "sandbox");

    const ws = await json(await fetch(`${api}/v1/workspaces`, { method: "POST", headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" }, body: JSON.stringify({ name: "bench" }) }));
    const key = ws.api_key as string;
    const conn = await fetch(`${api}/v1/connections`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify({ integration: "scale_ai", credentials: { api_key: scaleKey } }) });
    if (conn.status !== 201) throw new Error(`connection: ${conn.status} ${await conn.text()}`);

    // The load generator shares the 2 cores with what it measures, so it is lean: bench/lib/lean-http (request bytes
    // built once, responses read only as far as needed) spends ~25 µs of CPU per call where undici spent ~110 µs, CPU
    // the API, the worker and PostgreSQL would otherwise not have. (a) and (c) use the same client, one call at a time.
    // (a) The floor: the same upstream call the action makes (GET /v1/projects), straight to the sandbox.
    const directConnection = await openLeanConnection({ url: `${sandboxUrl}/v1/projects`, method: "GET", headers: basic(scaleKey) });
    const direct = await sample(DIRECT_SAMPLES, 100, async () => {
      const res = await directConnection.send();
      if (res.status !== 200) throw new Error(`direct ${res.status}`);
    });
    directConnection.close();
    console.log(`(a) direct HTTP call to the sandbox: p50 ${fmtMs(direct.p50)}, p99 ${fmtMs(direct.p99)} (n=${DIRECT_SAMPLES})`);

    // Sync calls check their envelope; the async floods only their 202 (the runs' outcomes are checked in PostgreSQL
    // at the end).
    const url = `${api}/v1/actions/SCALE_AI_LIST_PROJECTS/execute`;
    const headers = { authorization: `Bearer ${key}`, "content-type": "application/json" };
    const bodies = { sync: JSON.stringify({ input: {}, mode: "sync" }), async: JSON.stringify({ input: {}, mode: "async" }) };
    const syncConnection = await openLeanConnection({ url, method: "POST", headers, body: bodies.sync });
    const executeSync = async () => {
      const res = await syncConnection.send();
      const body = JSON.parse(res.body.toString()) as { successful?: boolean };
      if (res.status !== 200 || body.successful !== true) throw new Error(`sync execute ${res.status} ${JSON.stringify(body)}`);
    };
    const floodAsync = (total: number) =>
      leanFlood({ url, method: "POST", headers, body: bodies.async, total, connections: ASYNC_CONCURRENCY, expectStatus: 202 });

    // Warm-up (JIT, pools, prepared statements, caches) with the same calls as the measurements, then (c), (d), (e).
    const db = new (await import("pg")).default.Pool({ connectionString: dbUrl, max: 2 });
    try {
      await floodAsync(WARMUP_RUNS);
      await waitAllFinished(db);
      // Let PostgreSQL finish the upkeep the warm-up caused (autovacuum of the run tables, a checkpoint) before the
      // latency is measured, so (c) measures a call, not the tail of the flood. CHECKPOINT needs a superuser: best effort.
      await db.query("VACUUM ANALYZE run");
      await db.query("VACUUM ANALYZE run_attempt");
      await db.query("CHECKPOINT").catch(() => {});

      // (c) Sync latency at concurrency 1.
      const sync = await sample(SYNC_SAMPLES, 300, executeSync);
      const overheadP50 = sync.p50 - direct.p50;
      console.log(`(c) sync execute, concurrency 1: p50 ${fmtMs(sync.p50)}, p99 ${fmtMs(sync.p99)} (n=${SYNC_SAMPLES}); overhead over (a): p50 ${fmtMs(overheadP50)} [target ≤ 5 ms: ${overheadP50 <= 5 ? "PASS" : "FAIL"}]`);

      const rssBefore = await idleRssMb(worker.pid);
      const started = performance.now();
      await floodAsync(MEASURED_RUNS);
      await waitAllFinished(db);
      const seconds = (performance.now() - started) / 1000;
      const asyncRunsPerSec = MEASURED_RUNS / seconds;
      const ratio = asyncRunsPerSec / ceiling.jobsPerSec;
      console.log(`(d) async throughput, concurrency ${ASYNC_CONCURRENCY}: ${Math.round(asyncRunsPerSec).toLocaleString("en")} runs/s accepted→finished (${MEASURED_RUNS.toLocaleString("en")} runs in ${seconds.toFixed(1)} s); ratio to (b): ${(ratio * 100).toFixed(1)} % [target ≥ 20 %: ${ratio >= 0.2 ? "PASS" : "FAIL"}]`);
      const rssAfter = await idleRssMb(worker.pid);
      const growth = rssAfter / rssBefore - 1;
      console.log(`(e) worker RSS: ${rssBefore.toFixed(0)} MB after warm-up (${WARMUP_RUNS.toLocaleString("en")} async + ${SYNC_SAMPLES + 300} sync runs) → ${rssAfter.toFixed(0)} MB after ${MEASURED_RUNS.toLocaleString("en")} more: ${(growth * 100).toFixed(1)} % [target < 20 %: ${growth < 0.2 ? "PASS" : "FAIL"}]`);
      const { rows } = await db.query<{ status: string; n: number }>("SELECT status, count(*)::int AS n FROM run GROUP BY status ORDER BY status");
      console.log(`    runs by status: ${rows.map((r) => `${r.status} ${r.n}`).join(", ")}`);
      const pass = overheadP50 <= 5 && ratio >= 0.2 && growth < 0.2 && rows.every((r) => r.status === "succeeded");
      return { direct, ceilingJobsPerSec: ceiling.jobsPerSec, sync: { ...sync, overheadP50 }, asyncRunsPerSec, rss: { afterWarmupMb: rssBefore, afterMb: rssAfter, growth }, pass };
    } finally {
      syncConnection.close();
      await db.end();
    }
  } finally {
    await Promise.all(children.map((c) => c.stop()));
    await dropDatabase(dbUrl);
    await clearPrefix(config.redisUrl, prefix);
  }
}

function basic(key: string): Record<string, string> {
  return { authorization: `Basic ${Buffer.from(`${key}:`).toString("base64")}` };
}

async function json(res: Response): Promise<Record<string, unknown>> {
  if (!res.ok) throw new Error(`${res.status} ${await res.text()}`);
  return (await res.json()) as Record<string, unknown>;
}

/** Runs `fn` `warmup` times unmeasured, then `n` times one after another; returns p50/p99 in ms. */
async function sample(n: number, warmup: number, fn: () => Promise<void>): Promise<{ p50: number; p99: number }> {
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  return { p50: percentile(times, 50), p99: percentile(times, 99) };
}

async function waitAllFinished(db: import("pg").Pool): Promise<void> {
  await waitFor(async () => {
    const { rows } = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM run WHERE status IN ('queued', 'running')");
    return rows[0]!.n === 0;
  }, 600_000, "all runs finished", 50);
}

/**
 * The worker's resident memory once idle: the median of 20 samples over 2 s, so a single reading taken just before or
 * after a garbage collection does not decide the figure.
 */
async function idleRssMb(pid: number): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < 20; i++) {
    samples.push(rssMb(pid));
    await new Promise((r) => setTimeout(r, 100));
  }
  return percentile(samples, 50);
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? "0");
  return kb / 1024;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const result = await run();
  process.exitCode = result.pass ? 0 : 1;
}
