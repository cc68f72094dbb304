import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import type { Config } from "@nagent/config";
import { freePort, startChild, waitFor, type Child } from "../lib/processes";
import { openClients, type ClientCalls } from "./clients";
import { percentile } from "../lib/stats";
import { workerNodeArgs } from "../../apps/worker/src/node-args";

/** The platform as deployed: API, worker and Scale sandbox, each its own process on loopback. */
export interface Stack {
  readonly api: string;
  readonly sandboxUrl: string;
  /** The sandbox's API key (what a connection holds). */
  readonly scaleKey: string;
  readonly workerPid: number;
  readonly apiPid: number;
  readonly sandboxPid: number;
  /** Creates a workspace with a Scale AI connection; answers the workspace's API key. */
  workspace(name: string): Promise<string>;
  stop(): Promise<void>;
}

export async function startStack(config: Config, dbUrl: string, prefix: string): Promise<Stack> {
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
    // Runs per queue job: the platform's default unless set for an A/B run (NAGENT_RUN_BATCH_MAX=1: one job per run).
    ...(process.env["NAGENT_RUN_BATCH_MAX"] ? { NAGENT_RUN_BATCH_MAX: process.env["NAGENT_RUN_BATCH_MAX"] } : {}),
    // Measure the platform, not its politeness: no rate limit or workspace cap in the way. The cap equals the worker's
    // concurrency, which one worker's runs can never exceed (a run's slot is given back before its job ends), so it
    // never holds a run back; yet it keeps the fair ordering on, as deployed: a workspace's runs beyond its cap queue
    // behind other workspaces' first ones. With a cap of 10,000 (as before issue 17), an agent's sync call waited in
    // FIFO order behind up to 10,000 runs of a flooding workspace: 20 s and more in (f), on a loaded machine.
    NAGENT_CONNECTION_RATE_PER_SEC: "10000",
    NAGENT_WORKER_CONCURRENCY: String(config.workerConcurrency), NAGENT_WORKSPACE_CONCURRENCY: String(config.workerConcurrency),
    HOST: "127.0.0.1", PORT: String(apiPort), SANDBOX_PORT: String(sandboxPort), SANDBOX_KEYS: scaleKey,
  };
  const children: Child[] = [];
  const stop = () => Promise.all(children.map((c) => c.stop())).then(() => {});
  try {
    const sandbox = startChild("sandbox", "apps/scale-sandbox/src/main.ts", env);
    const apiChild = startChild("api", "apps/api/src/server.ts", env);
    children.push(sandbox, apiChild);
    // The worker runs as `npm start` runs it, with its heap budget: (e) measures its RSS.
    const worker = startChild("worker", "apps/worker/src/main.ts", env, workerNodeArgs(config));
    children.push(worker);
    await waitFor(async () => {
      const dead = children.find((c) => c.exited());
      if (dead) throw new Error(`${dead.name} exited during start`);
      return (await fetch(`${api}/readyz`).catch(() => null))?.status === 200;
    }, 60_000, "API readiness");
    await waitFor(async () => (await fetch(`${sandboxUrl}/v1/projects`, { headers: basicAuth(scaleKey) }).catch(() => null))?.status === 200, 30_000, "sandbox");
    return {
      api, sandboxUrl, scaleKey, workerPid: worker.pid, apiPid: apiChild.pid, sandboxPid: sandbox.pid, stop,
      async workspace(name) {
        const ws = await json(await fetch(`${api}/v1/workspaces`, { method: "POST", headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" }, body: JSON.stringify({ name }) }));
        const key = ws["api_key"] as string;
        const conn = await fetch(`${api}/v1/connections`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify({ integration: "scale_ai", credentials: { api_key: scaleKey } }) });
        if (conn.status !== 201) throw new Error(`connection: ${conn.status} ${await conn.text()}`);
        return key;
      },
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

export function basicAuth(key: string): Record<string, string> {
  return { authorization: `Basic ${Buffer.from(`${key}:`).toString("base64")}` };
}

async function json(res: Response): Promise<Record<string, unknown>> {
  if (!res.ok) throw new Error(`${res.status} ${await res.text()}`);
  return (await res.json()) as Record<string, unknown>;
}

/** Waits until no run is queued or running. */
export async function waitAllFinished(db: import("pg").Pool): Promise<void> {
  await waitFor(async () => {
    const { rows } = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM run WHERE status IN ('queued', 'running')");
    return rows[0]!.n === 0;
  }, 600_000, "all runs finished", 50);
}

/**
 * A process's resident memory once idle: the median of 20 samples over 2 s, so a single reading taken just before or
 * after a garbage collection does not decide the figure.
 */
export async function idleRssMb(pid: number): Promise<number> {
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

/** The action every figure calls: SCALE_AI_LIST_PROJECTS, which the sandbox answers with GET /v1/projects. */
export const BENCH_ACTION = "SCALE_AI_LIST_PROJECTS";

/**
 * The two calls (a) and (c) compare, each with both clients: (a) the same upstream call the action makes
 * (GET /v1/projects), straight to the sandbox; (c) a sync execute of the action with workspace key `apiKey`.
 */
export async function openDirectAndSync(stack: Stack, apiKey: string): Promise<{ direct: ClientCalls; sync: ClientCalls }> {
  const direct = await openClients({ url: `${stack.sandboxUrl}/v1/projects`, method: "GET", headers: basicAuth(stack.scaleKey) },
    (status) => (status === 200 ? null : `status ${status}`));
  const sync = await openClients({ url: `${stack.api}/v1/actions/${BENCH_ACTION}/execute`, method: "POST", headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" }, body: JSON.stringify({ input: {}, mode: "sync" }) },
    (status, body) => (status === 200 && (body as { successful?: unknown }).successful === true ? null : `status ${status} ${JSON.stringify(body)}`));
  return { direct, sync };
}
