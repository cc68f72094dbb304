// The floor of (d): `npx tsx bench/execute/floor/run.ts`. Issue 17 asks async throughput (d) ≥ 33 % of BullMQ's no-op
// ceiling (b). This measures, in one run, (b), the platform's (d), and (d) of a skeleton that does only what any design
// recording a run and queueing it must do (floor/api.ts, floor/worker.ts: HTTP accept, one durable row, one BullMQ
// job, a claim, the upstream call, a durable finish; nothing else), each with its CPU per run by process, so the
// share of (b) the design itself allows on this machine is a measured figure, not an estimate. The skeleton runs twice:
// with one BullMQ job per run, as the platform queues them, and with one job per batch of runs (what the per-job cost
// of BullMQ weighs in that floor).
import { randomBytes } from "node:crypto";
import { availableParallelism } from "node:os";
import { pathToFileURL } from "node:url";
import pg from "pg";
import { configFromProcess } from "@nagent/config";
import { migrate, MIGRATIONS_DIR } from "@nagent/db";
import { cpuByRole, cpuPerUnit } from "../../lib/cpu";
import { dropDatabase, withDatabase } from "../../lib/database";
import { leanFlood } from "../../lib/lean-http";
import { freePort, startChild, waitFor, type Child } from "../../lib/processes";
import { percentile } from "../../lib/stats";
import { clearPrefix, measureBullmqCeiling } from "../bullmq-ceiling";
import { basicAuth, BENCH_ACTION, startStack, waitAllFinished } from "../stack";

const CONCURRENCY = 64;
const WARMUP_RUNS = 10_000;
const MEASURED_RUNS = 20_000;
const count = (n: number) => Math.round(n).toLocaleString("en");

interface Throughput { readonly runsPerSec: number; readonly cpu: string; readonly cpuUs: number }

/** Floods `url` with `MEASURED_RUNS` async requests (after a warm-up) and times accepted → all finished. */
async function measure(url: string, headers: Record<string, string>, body: string, pids: Record<string, number>, finished: () => Promise<void>, upkeep: () => Promise<void>): Promise<Throughput> {
  const flood = (total: number) => leanFlood({ url, method: "POST", headers: { ...headers, "content-type": "application/json" }, body, total, connections: CONCURRENCY, expectStatus: 202 });
  await flood(WARMUP_RUNS);
  await finished();
  await upkeep();
  const before = cpuByRole({ ...pids, client: process.pid });
  const started = performance.now();
  await flood(MEASURED_RUNS);
  await finished();
  const seconds = (performance.now() - started) / 1000;
  const { text, totalUs } = cpuPerUnit(before, cpuByRole({ ...pids, client: process.pid }), MEASURED_RUNS);
  return { runsPerSec: MEASURED_RUNS / seconds, cpu: text, cpuUs: totalUs };
}

/** `jobs`: one BullMQ job per run, as the platform queues them, or one per batch of runs (what BullMQ's per-job cost weighs). */
async function measureFloor(config: ReturnType<typeof configFromProcess>["config"], prefix: string, jobs: "run" | "batch"): Promise<Throughput> {
  const dbUrl = withDatabase(config.databaseUrl, "nagent_bench_floor");
  await dropDatabase(dbUrl);
  const admin = new pg.Client({ connectionString: withDatabase(config.databaseUrl, "postgres") });
  await admin.connect();
  await admin.query("CREATE DATABASE nagent_bench_floor");
  await admin.end();
  const db = new pg.Pool({ connectionString: dbUrl, max: 2 });
  // An idle client's error (its database dropped at the end) must not end the benchmark as an unhandled 'error' event.
  db.on("error", () => {});
  await db.query(`CREATE TABLE floor_run (id uuid PRIMARY KEY, status varchar(16) NOT NULL, input jsonb NOT NULL, output jsonb,
    created_at timestamptz(3) NOT NULL DEFAULT now(), updated_at timestamptz(3) NOT NULL DEFAULT now())`);
  const key = `test_${randomBytes(12).toString("hex")}`;
  const [sandboxPort, apiPort] = [await freePort(), await freePort()];
  const env: NodeJS.ProcessEnv = {
    PATH: process.env["PATH"], HOME: process.env["HOME"], NODE_ENV: "production", LOG_LEVEL: "warn",
    DATABASE_URL: dbUrl, REDIS_URL: config.redisUrl, PREFIX: prefix, PORT: String(apiPort), CONCURRENCY: String(config.workerConcurrency),
    UPSTREAM_URL: `http://127.0.0.1:${sandboxPort}`, UPSTREAM_KEY: key, SANDBOX_PORT: String(sandboxPort), SANDBOX_KEYS: key, HOST: "127.0.0.1", FLOOR_JOBS: jobs,
  };
  const children: Child[] = [];
  try {
    children.push(startChild("sandbox", "apps/scale-sandbox/src/main.ts", env));
    await waitFor(async () => (await fetch(`${env["UPSTREAM_URL"]}/v1/projects`, { headers: basicAuth(key) }).catch(() => null))?.status === 200, 30_000, "sandbox");
    children.push(startChild("floor-api", "bench/execute/floor/api.ts", env));
    children.push(startChild("floor-worker", "bench/execute/floor/worker.ts", env));
    await waitFor(async () => {
      const dead = children.find((c) => c.exited());
      if (dead) throw new Error(`${dead.name} exited during start`);
      return (await fetch(`http://127.0.0.1:${apiPort}/execute`, { method: "POST" }).catch(() => null))?.status === 202;
    }, 60_000, "floor API");
    // Every run must succeed (the worker retries nothing): a failed one would otherwise leave this waiting forever.
    const finished = () => waitFor(async () => {
      const dead = children.find((c) => c.exited());
      if (dead) throw new Error(`${dead.name} exited`);
      const { rows } = await db.query<{ left: number; stuck: number }>(`SELECT count(*) FILTER (WHERE status <> 'succeeded')::int AS left,
        count(*) FILTER (WHERE status <> 'succeeded' AND updated_at < now() - interval '30 seconds')::int AS stuck FROM floor_run`);
      if (rows[0]!.stuck > 0) throw new Error(`${rows[0]!.stuck} floor runs did not finish`);
      return rows[0]!.left === 0;
    }, 600_000, "floor runs finished", 50);
    const [sandbox, api, worker] = children.map((c) => c.pid);
    return await measure(`http://127.0.0.1:${apiPort}/execute`, {}, "{}", { api: api!, worker: worker!, sandbox: sandbox! }, finished,
      () => db.query("VACUUM ANALYZE floor_run").then(() => {}));
  } finally {
    await Promise.all(children.map((c) => c.stop()));
    await db.end();
    await dropDatabase(dbUrl);
  }
}

async function measurePlatform(config: ReturnType<typeof configFromProcess>["config"], prefix: string): Promise<Throughput> {
  const dbUrl = withDatabase(config.databaseUrl, "nagent_bench_floor_platform");
  await dropDatabase(dbUrl);
  await migrate({ url: dbUrl, dir: MIGRATIONS_DIR });
  const db = new pg.Pool({ connectionString: dbUrl, max: 2 });
  db.on("error", () => {});
  const stack = await startStack(config, dbUrl, prefix);
  try {
    const key = await stack.workspace("flood");
    return await measure(`${stack.api}/v1/actions/${BENCH_ACTION}/execute`, { authorization: `Bearer ${key}` }, JSON.stringify({ input: {}, mode: "async" }),
      { api: stack.apiPid, worker: stack.workerPid, sandbox: stack.sandboxPid }, () => waitAllFinished(db),
      async () => {
        await db.query("VACUUM ANALYZE run");
        await db.query("VACUUM ANALYZE run_attempt");
      });
  } finally {
    await stack.stop();
    await db.end();
    await dropDatabase(dbUrl);
  }
}

export async function run(): Promise<void> {
  const { config } = configFromProcess({ generate: false, secrets: false });
  const prefix = `nbench${randomBytes(4).toString("hex")}`;
  try {
    const rounds: number[] = [];
    for (let i = 0; i < 3; i++) rounds.push((await measureBullmqCeiling(config.redisUrl, `${prefix}c${i}`, 20_000, 100)).jobsPerSec);
    const ceiling = percentile(rounds, 50);
    console.log(`(b) BullMQ no-op ceiling: ${count(ceiling)} jobs/s (median of ${rounds.map(count).join(", ")}); at 33 %: ${count(ceiling * 0.33)} runs/s, i.e. at most ${count((availableParallelism() * 1e6) / (ceiling * 0.33))} µs of CPU per run on ${availableParallelism()} cores`);
    const floor = await measureFloor(config, `${prefix}f`, "run");
    console.log(`floor (bare route, one durable row, one job, claim, call, durable finish): ${count(floor.runsPerSec)} runs/s = ${(floor.runsPerSec / ceiling * 100).toFixed(1)} % of (b); CPU µs per run: ${floor.cpu}; total ${floor.cpuUs.toFixed(0)}`);
    const batched = await measureFloor(config, `${prefix}g`, "batch");
    console.log(`floor, one job per batch of runs (the API's insert batch): ${count(batched.runsPerSec)} runs/s = ${(batched.runsPerSec / ceiling * 100).toFixed(1)} % of (b); CPU µs per run: ${batched.cpu}; total ${batched.cpuUs.toFixed(0)}`);
    const platform = await measurePlatform(config, `${prefix}p`);
    console.log(`platform (d): ${count(platform.runsPerSec)} runs/s = ${(platform.runsPerSec / ceiling * 100).toFixed(1)} % of (b), ${(platform.runsPerSec / floor.runsPerSec * 100).toFixed(0)} % of the floor; CPU µs per run: ${platform.cpu}; total ${platform.cpuUs.toFixed(0)}`);
  } finally {
    await clearPrefix(config.redisUrl, prefix);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) await run();
