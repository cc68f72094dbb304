// Pacing benchmark: `npx tsx bench/pacing/index.ts`, or `npm run bench -- pacing`.
//
// A flood against the Scale sandbox set to answer 429 above N requests/s (its fixed-window rate-limit fault, no
// Retry-After), paced by the platform's fairness scripts (packages/queue/src/fairness-scripts.ts, through fairness.ts) on the real Redis: 64
// concurrent "workers" admit a run, call GET /v1/batches, and release it with how the call went (a 429 is retried
// after a short backoff, as the worker does). For each N it measures the adaptive pace (the default: AIMD from
// NAGENT_CONNECTION_RATE_PER_SEC's 20/s) and, as the baseline in the same run, the fixed cap the platform used before
// (20/s, min_rps = max_rps = 20). It prints the achieved rate of successful calls once settled (after the first 429 +
// 3 s) as a ratio to N, and the 429s per 1,000 calls. The API and the worker process are left out on purpose: what is
// measured is the pacing, not this machine's run throughput (bench/execute measures that).
import { randomBytes } from "node:crypto";
import { pathToFileURL } from "node:url";
import { loadConfig, readEnvironment } from "@nagent/config";
import { createFairness, createRedis } from "@nagent/queue";
import { startSandbox } from "../../apps/scale-sandbox/src/index";

const WORKERS = 64;
const SECONDS = 15;
const SETTLE_MS = 3_000;
const START_RPS = 20;
const LIMITS = [10, 40];

export interface PacingFigure {
  readonly n: number;
  readonly mode: "adaptive" | "fixed 20/s";
  /** Successful calls per second once settled, as a ratio to N. */
  readonly ratio: number;
  /** 429s per 1,000 calls over the whole case, and once settled. */
  readonly per1000: number;
  readonly settledPer1000: number;
  readonly pace: number | null;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function run(): Promise<PacingFigure[]> {
  const { env } = readEnvironment(process.env, { envFile: ".env.local", generate: false });
  const config = loadConfig(env, { secrets: false });
  const redis = createRedis(config.redisUrl, "worker");
  const figures: PacingFigure[] = [];
  console.log(`pacing benchmark: ${WORKERS} concurrent callers for ${SECONDS} s per case against a sandbox answering 429 above N requests/s`);
  try {
    for (const n of LIMITS) {
      for (const mode of ["adaptive", "fixed 20/s"] as const) {
        const key = `test_${randomBytes(8).toString("hex")}`;
        const sandbox = await startSandbox({ keys: [key] });
        sandbox.control.setFaults(key, [{ route: "GET /v1/batches", rate_limit: { requests: n, window_ms: 1_000 } }]);
        try {
          figures.push(await measure(redis, sandbox.url, key, n, mode));
        } finally {
          await sandbox.close();
        }
      }
    }
  } finally {
    redis.disconnect();
  }
  for (const n of LIMITS) {
    const [adaptive, fixed] = [figures.find((f) => f.n === n && f.mode === "adaptive")!, figures.find((f) => f.n === n && f.mode !== "adaptive")!];
    const f = (x: PacingFigure) => `${x.ratio.toFixed(2)}×N, 429s per 1,000 calls: ${x.per1000.toFixed(0)} in all, ${x.settledPer1000.toFixed(0)} settled`;
    console.log(`  N=${n}: adaptive ${f(adaptive)} (pace ${adaptive.pace?.toFixed(1)}/s) | baseline fixed 20/s ${f(fixed)}`);
  }
  return figures;
}

async function measure(redis: ReturnType<typeof createRedis>, baseUrl: string, key: string, n: number, mode: PacingFigure["mode"]): Promise<PacingFigure> {
  const prefix = `bench-pacing-${randomBytes(4).toString("hex")}`;
  const fairness = createFairness(redis, { prefix, workspaceConcurrency: 10_000, connectionRatePerSec: START_RPS, leaseMs: 60_000 });
  const limits = mode === "adaptive" ? null : { minRps: 20, maxRps: 20 };
  const workspaceId = "bench";
  const connectionId = "bench-connection";
  const auth = `Basic ${Buffer.from(`${key}:`).toString("base64")}`;
  // Teach the fixed case its bounds before the clock starts (the worker learns them from the first run's release).
  await fairness.release(workspaceId, "", false, { connectionId, pace: "ok", limits });
  const calls: { at: number; status: number }[] = [];
  const started = Date.now();
  const until = started + SECONDS * 1_000;
  let next = 0;
  const worker = async () => {
    while (Date.now() < until) {
      const runId = `run-${next++}`;
      for (;;) {
        if (Date.now() >= until) return;
        const admission = await fairness.admit(workspaceId, runId, connectionId);
        if (!admission.admitted) {
          await sleep(admission.reserved ? Math.max(1, admission.waitMs) : admission.waitMs + Math.round(Math.random() * Math.min(250, admission.waitMs)));
          continue;
        }
        const res = await fetch(`${baseUrl}/v1/batches`, { headers: { authorization: auth } });
        await res.arrayBuffer();
        calls.push({ at: Date.now(), status: res.status });
        await fairness.release(workspaceId, runId, res.ok, { connectionId, pace: res.ok ? "ok" : res.status === 429 ? "slow" : null, limits });
        if (res.ok) break;
        await sleep(20 + Math.random() * 180);
      }
    }
  };
  await Promise.all(Array.from({ length: WORKERS }, worker));
  const first429 = calls.find((c) => c.status === 429)?.at ?? started;
  const from = Math.max(first429, started) + SETTLE_MS;
  const settled = calls.filter((c) => c.at >= from && c.at <= until);
  const ok = settled.filter((c) => c.status === 200).length;
  const seconds = (until - from) / 1_000;
  const limited = calls.filter((c) => c.status === 429).length;
  const figure: PacingFigure = { n, mode, ratio: seconds > 0 ? ok / seconds / n : 0, per1000: (limited / Math.max(1, calls.length)) * 1_000,
    settledPer1000: (settled.filter((c) => c.status === 429).length / Math.max(1, settled.length)) * 1_000, pace: await fairness.paceOf(connectionId) };
  await redis.del(...(await redis.keys(`${prefix}:*`)), `${prefix}:none`);
  return figure;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await run();
}
