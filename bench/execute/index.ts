// Execution benchmark: `npx tsx bench/execute/index.ts`, or `npm run bench -- execute`.
//
// Measures, in one run on this machine, against the Scale AI sandbox on loopback, with the API, the worker and the
// sandbox as separate processes (as deployed) and this process as the load generator:
//   (b) BullMQ's no-op ceiling (addBulk, worker concurrency 100; the median of three rounds),
//   (a) a direct HTTP call to the sandbox (the floor of any execute), with each client (see clients.ts),
//   (c) sync execute latency p50/p99 at concurrency 1 with each client, and its overhead over (a) with the same client,
//   (d) async throughput at concurrency 64 (accepted → finished), and its ratio to (b),
//   (f) sync execute latency while an async flood of another workspace runs, and its p99 against (c)'s idle p99,
//   (e) the worker's RSS after warm-up and after 100,000 more runs.
// Targets (issue 17), each a ratio or difference within this run: (c) overhead p50 ≤ 2 ms and p99 ≤ 8 ms with either
// client; (d) ≥ 33 % of (b); (f) p99 ≤ 5× (c)'s p99; (e) within ±10 %. The exit code is 1 if any target is missed.
// It creates its own database (`nagent_bench_execute`) and queue prefix, and removes both at the end.
import { randomBytes } from "node:crypto";
import { availableParallelism } from "node:os";
import { pathToFileURL } from "node:url";
import { configFromProcess } from "@nagent/config";
import { migrate, MIGRATIONS_DIR } from "@nagent/db";
import { dropDatabase, withDatabase } from "../lib/database";
import { cpuByRole, cpuPerUnit } from "../lib/cpu";
import { leanFlood } from "../lib/lean-http";
import { fmtMs, percentile } from "../lib/stats";
import { clearPrefix, measureBullmqCeiling } from "./bullmq-ceiling";
import { CLIENTS, sampleInterleaved, type ClientName, type Latency } from "./clients";
import { runPhases, sampleUnderFlood } from "./mixed";
import { BENCH_ACTION, idleRssMb, openDirectAndSync, startStack, waitAllFinished, type Stack } from "./stack";

const DB_NAME = "nagent_bench_execute";
const CEILING_ROUNDS = 3;
const WARMUP_RUNS = 10_000;
/** (a) and (c): rounds of four calls (direct and sync, each client), after unmeasured ones. */
const IDLE_ROUNDS = 1_000;
const IDLE_WARMUP = 300;
const ASYNC_CONCURRENCY = 64;
const MEASURED_RUNS = 20_000;
/** (f): rounds of two sync calls (each client) under the flood, once it has run FLOOD_SETTLE_MS; at most FLOOD_MAX_MS. */
const FLOOD_ROUNDS = 500;
const FLOOD_SETTLE_MS = 2_000;
const FLOOD_MAX_MS = 60_000;
/**
 * (f)'s flood rate, as a share of (d)'s measured throughput: a busy platform, not an overloaded one. Unpaced (as
 * before), 64 connections offered more runs than the worker finished (1,830 accepted/s against 2,113 finished/s in
 * (d), with the API's accepting taking its share of the same 2 cores): the backlog grew for as long as the flood ran,
 * every process ran at 100 % CPU, and what (f) measured was how long the flood had run, not the platform.
 */
const FLOOD_LOAD = 0.7;
/** (e): the runs after warm-up over which the worker's RSS must stay flat ((d) and (f) count, the rest tops up). */
const RSS_RUNS = 100_000;

const TARGET = { overheadP50Ms: 2, overheadP99Ms: 8, asyncRatio: 0.33, floodP99Ratio: 5, rssDrift: 0.1 };

export interface ExecuteBenchResult {
  readonly ceilingJobsPerSec: number;
  readonly direct: Record<ClientName, Latency>;
  readonly sync: Record<ClientName, Latency & { overheadP50: number; overheadP99: number }>;
  readonly asyncRunsPerSec: number;
  readonly underFlood: Record<ClientName, Latency & { p99Ratio: number }>;
  readonly rss: { afterWarmupMb: number; afterMb: number; runs: number; drift: number };
  readonly pass: boolean;
}

/** Prints a figure's target verdict and remembers a failure. */
function verdict(failures: string[], what: string, ok: boolean, target: string): string {
  if (!ok) failures.push(what);
  return `[target ${target}: ${ok ? "PASS" : "FAIL"}]`;
}

const count = (n: number) => Math.round(n).toLocaleString("en");

export async function run(): Promise<ExecuteBenchResult> {
  const { config } = configFromProcess({ generate: false, secrets: false });
  const dbUrl = withDatabase(config.databaseUrl, DB_NAME);
  const prefix = `nbench${randomBytes(4).toString("hex")}`;
  const failures: string[] = [];
  console.log("execute benchmark: API, worker and Scale sandbox as separate processes on loopback; this process generates the load");

  // (b) varies by ±15 % from one 20,000-job round to the next on these machines: the baseline is the median of three.
  const rounds: number[] = [];
  for (let i = 0; i < CEILING_ROUNDS; i++) rounds.push((await measureBullmqCeiling(config.redisUrl, `${prefix}c${i}`, 20_000, 100)).jobsPerSec);
  const ceilingJobsPerSec = percentile(rounds, 50);
  console.log(`(b) BullMQ no-op ceiling: ${count(ceilingJobsPerSec)} jobs/s, median of ${CEILING_ROUNDS} rounds (${rounds.map(count).join(", ")}) of 20,000 jobs, addBulk, worker concurrency 100`);

  await dropDatabase(dbUrl);
  await migrate({ url: dbUrl, dir: MIGRATIONS_DIR });
  const db = new (await import("pg")).default.Pool({ connectionString: dbUrl, max: 2 });
  let stack: Stack | undefined;
  try {
    stack = await startStack(config, dbUrl, prefix);
    // Two tenants: "flood" sends the async loads (warm-up, (d), (f)); "agent" makes the sync calls of (c) and (f), so
    // (f) is the same call as (c) with another tenant busy: what one agent sees on a busy platform.
    const floodKey = await stack.workspace("flood");
    const agentKey = await stack.workspace("agent");
    const url = `${stack.api}/v1/actions/${BENCH_ACTION}/execute`;
    const { direct, sync } = await openDirectAndSync(stack, agentKey);
    // The async floods check only their 202 (the runs' outcomes are checked in PostgreSQL at the end); they use the
    // lean client, so the load generator takes as little of the 2 cores as it can.
    const floodAsync = (total: number, signal?: AbortSignal, ratePerSec?: number) => leanFlood({
      url, method: "POST", headers: { authorization: `Bearer ${floodKey}`, "content-type": "application/json" }, body: JSON.stringify({ input: {}, mode: "async" }),
      total, connections: ASYNC_CONCURRENCY, expectStatus: 202, ...(signal ? { signal } : {}), ...(ratePerSec ? { ratePerSec } : {}),
    });
    const runCount = async () => (await db.query<{ n: number }>("SELECT count(*)::int AS n FROM run")).rows[0]!.n;

    try {
      // Warm-up (JIT, pools, prepared statements, caches) with the same calls as the measurements.
      await floodAsync(WARMUP_RUNS);
      await waitAllFinished(db);
      // Let PostgreSQL finish the upkeep the warm-up caused (autovacuum of the run tables, a checkpoint) before the
      // latency is measured, so (c) measures a call, not the tail of the flood. CHECKPOINT needs a superuser: best effort.
      await db.query("VACUUM ANALYZE run");
      await db.query("VACUUM ANALYZE run_attempt");
      await db.query("CHECKPOINT").catch(() => {});

      // (a) and (c), both clients, interleaved call by call.
      const idle = await sampleInterleaved({
        directLean: direct.call.lean, directFetch: direct.call.fetch, syncLean: sync.call.lean, syncFetch: sync.call.fetch,
      }, IDLE_ROUNDS, IDLE_WARMUP);
      const directBy = { lean: idle.directLean, fetch: idle.directFetch };
      const syncBy = { lean: idle.syncLean, fetch: idle.syncFetch };
      for (const c of CLIENTS) console.log(`(a) direct HTTP call to the sandbox, ${c}: p50 ${fmtMs(directBy[c].p50)}, p99 ${fmtMs(directBy[c].p99)} (n=${directBy[c].n})`);
      const syncResult = {} as ExecuteBenchResult["sync"];
      for (const c of CLIENTS) {
        const s = syncBy[c];
        const overheadP50 = s.p50 - directBy[c].p50;
        const overheadP99 = s.p99 - directBy[c].p99;
        syncResult[c] = { ...s, overheadP50, overheadP99 };
        console.log(`(c) sync execute, concurrency 1, ${c}: p50 ${fmtMs(s.p50)}, p99 ${fmtMs(s.p99)} (n=${s.n}); overhead over (a) ${c}: `
          + `p50 ${fmtMs(overheadP50)} ${verdict(failures, `(c) ${c} p50`, overheadP50 <= TARGET.overheadP50Ms, `≤ ${TARGET.overheadP50Ms} ms`)}, `
          + `p99 ${fmtMs(overheadP99)} ${verdict(failures, `(c) ${c} p99`, overheadP99 <= TARGET.overheadP99Ms, `≤ ${TARGET.overheadP99Ms} ms`)}`);
      }

      const rssBefore = await idleRssMb(stack.workerPid);
      const runsBefore = await runCount();

      // (d) async throughput, and where its CPU went.
      const pids = { api: stack.apiPid, worker: stack.workerPid, sandbox: stack.sandboxPid, client: process.pid };
      const cpuBefore = cpuByRole(pids);
      const started = performance.now();
      await floodAsync(MEASURED_RUNS);
      await waitAllFinished(db);
      const seconds = (performance.now() - started) / 1000;
      const cpu = cpuPerUnit(cpuBefore, cpuByRole(pids), MEASURED_RUNS);
      const asyncRunsPerSec = MEASURED_RUNS / seconds;
      const ratio = asyncRunsPerSec / ceilingJobsPerSec;
      console.log(`(d) async throughput, concurrency ${ASYNC_CONCURRENCY}: ${count(asyncRunsPerSec)} runs/s accepted→finished (${count(MEASURED_RUNS)} runs in ${seconds.toFixed(1)} s); `
        + `ratio to (b): ${(ratio * 100).toFixed(1)} % ${verdict(failures, "(d)", ratio >= TARGET.asyncRatio, `≥ ${TARGET.asyncRatio * 100} %`)}`);
      // n cores give n × 1,000,000 µs of CPU a second: the target allows that / (0.33 × (b)) µs per run, all processes together.
      console.log(`    CPU per run (µs): ${cpu.text}; total ${cpu.totalUs.toFixed(0)} (the target allows ${((availableParallelism() * 1e6) / (TARGET.asyncRatio * ceilingJobsPerSec)).toFixed(0)} on ${availableParallelism()} cores; bench/execute/floor/run.ts measures a bare skeleton of the same steps)`);

      // (f) sync latency while the other workspace's async flood runs, without end, held at FLOOD_LOAD of (d)'s rate.
      const floodRate = Math.round(asyncRunsPerSec * FLOOD_LOAD);
      const floodStarted = new Date();
      const mixed = await sampleUnderFlood((signal) => floodAsync(Infinity, signal, floodRate), sync.call, { rounds: FLOOD_ROUNDS, warmup: 0, settleMs: FLOOD_SETTLE_MS, maxSampleMs: FLOOD_MAX_MS });
      console.log(`(f) under an async flood held at ${FLOOD_LOAD * 100} % of (d) = ${count(floodRate)} runs/s (concurrency ${ASYNC_CONCURRENCY}; ${count(mixed.floodRuns)} runs accepted in ${mixed.floodSeconds.toFixed(1)} s = ${count(mixed.floodRuns / mixed.floodSeconds)}/s), sync execute of another workspace, concurrency 1:`);
      const underFlood = {} as ExecuteBenchResult["underFlood"];
      for (const c of CLIENTS) {
        const f = mixed.latency[c];
        const p99Ratio = f.p99 / syncBy[c].p99;
        underFlood[c] = { ...f, p99Ratio };
        console.log(`    ${c}: p50 ${fmtMs(f.p50)}, p99 ${fmtMs(f.p99)} (n=${f.n}); p99 / idle p99 of (c) ${c}: ${p99Ratio.toFixed(2)}× ${verdict(failures, `(f) ${c}`, p99Ratio <= TARGET.floodP99Ratio, `≤ ${TARGET.floodP99Ratio}×`)}`);
      }
      console.log(`    the agent's runs meanwhile: ${await runPhases(db, "agent", floodStarted)}`);
      await waitAllFinished(db);

      // (e) the worker's RSS over RSS_RUNS runs after warm-up: (d)'s, (f)'s, and a flood for the rest.
      const topUp = RSS_RUNS - (await runCount() - runsBefore);
      if (topUp > 0) {
        await floodAsync(topUp);
        await waitAllFinished(db);
      }
      const runs = await runCount() - runsBefore;
      const rssAfter = await idleRssMb(stack.workerPid);
      const drift = rssAfter / rssBefore - 1;
      console.log(`(e) worker RSS: ${rssBefore.toFixed(0)} MB after warm-up → ${rssAfter.toFixed(0)} MB after ${count(runs)} more runs `
        + `((d) ${count(MEASURED_RUNS)}, (f) ${count(mixed.floodRuns)} async + ${count(CLIENTS.reduce((n, c) => n + mixed.latency[c].n, 0))} sync, then ${count(Math.max(0, topUp))} async): `
        + `${drift >= 0 ? "+" : ""}${(drift * 100).toFixed(1)} % ${verdict(failures, "(e)", Math.abs(drift) <= TARGET.rssDrift && runs >= RSS_RUNS, `within ±${TARGET.rssDrift * 100} % over ≥ ${count(RSS_RUNS)} runs`)}`);

      const { rows } = await db.query<{ status: string; n: number }>("SELECT status, count(*)::int AS n FROM run GROUP BY status ORDER BY status");
      const allSucceeded = rows.every((r) => r.status === "succeeded");
      console.log(`    runs by status: ${rows.map((r) => `${r.status} ${r.n}`).join(", ")}${allSucceeded ? "" : " (every run must succeed: FAIL)"}`);
      if (!allSucceeded) failures.push("runs not all succeeded");
      console.log(failures.length === 0 ? "every target: PASS" : `missed: ${failures.join(", ")}`);
      return {
        ceilingJobsPerSec, direct: directBy, sync: syncResult, asyncRunsPerSec, underFlood,
        rss: { afterWarmupMb: rssBefore, afterMb: rssAfter, runs, drift }, pass: failures.length === 0,
      };
    } finally {
      direct.close();
      sync.close();
    }
  } finally {
    await db.end();
    await stack?.stop();
    await dropDatabase(dbUrl);
    await clearPrefix(config.redisUrl, prefix);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const result = await run();
  process.exitCode = result.pass ? 0 : 1;
}
