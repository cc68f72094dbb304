import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { expect } from "vitest";
import type { TestApp } from "./app";

export interface RunningProcess {
  readonly child: ChildProcess;
  readonly output: () => string;
  /** Resolves with the exit code (or signal name). */
  readonly exited: Promise<number | string>;
}

/** Starts a TypeScript entry point as its own Node process (as `npm run …` would), capturing its output. */
export function startProcess(entry: string, env: NodeJS.ProcessEnv): RunningProcess {
  const child = spawn(process.execPath, ["--import", "tsx", entry], { env, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout!.on("data", (c: Buffer) => (out += c.toString()));
  child.stderr!.on("data", (c: Buffer) => (out += c.toString()));
  const exited = once(child, "exit").then(([code, signal]) => (code ?? signal) as number | string);
  return { child, output: () => out, exited };
}

/** A minimal environment for a child process: PATH and HOME, without the variables of this test process. */
export function baseEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  return { PATH: process.env["PATH"], HOME: process.env["HOME"], ...extra };
}

/**
 * `npm run worker`'s entry point as its own process, in production mode (nothing read from .env.local, nothing
 * generated), on the test app's database, Redis prefix and keys; resolves once its workers have started (a worker that does not start is killed). `env` adds
 * the test's own settings (locks, timeouts).
 */
export async function startWorkerProcess(t: Pick<TestApp, "config" | "db">, env: Record<string, string>): Promise<RunningProcess> {
  const c = t.config;
  const worker = startProcess("apps/worker/src/main.ts", baseEnv({
    NODE_ENV: "production",
    LOG_LEVEL: "info",
    DATABASE_URL: t.db.url,
    REDIS_URL: c.redisUrl,
    NAGENT_QUEUE_PREFIX: c.queuePrefix,
    NAGENT_ADMIN_TOKEN: c.adminToken,
    NAGENT_MASTER_KEYS: c.masterKeys.map((k) => `${k.id}:${k.key.toString("base64")}`).join(","),
    NAGENT_ALLOW_PRIVATE_EGRESS: "true", // the sandbox, proxies and receivers are on loopback
    ...env,
  }));
  try {
    await expect.poll(() => worker.output(), { timeout: 60_000, interval: 100 }).toContain("workers started");
  } catch (error) {
    worker.child.kill("SIGKILL"); // never left running behind a failed start
    throw error;
  }
  return worker;
}

/** Sends SIGTERM to each process still running and waits for it to exit (afterAll of tests that kill workers). */
export async function stopProcesses(processes: readonly RunningProcess[]): Promise<void> {
  for (const p of processes) {
    if (p.child.exitCode === null && p.child.signalCode === null) {
      p.child.kill("SIGTERM");
      await p.exited;
    }
  }
}
