import { spawn, type ChildProcess } from "node:child_process";
import { afterAll } from "vitest";
import { once } from "node:events";
import { freePort } from "./net";

/**
 * Every server still running: killed after the test file, however its tests ended. A test that times out never
 * reaches its `finally`, but the file's afterAll hooks still run; vitest's forks end without an "exit" event, so a
 * process hook would not do (seen: two servers left by timed-out health tests).
 */
const running = new Set<ChildProcess>();
afterAll(async () => {
  await Promise.all([...running].map(async (child) => {
    child.kill("SIGKILL");
    await once(child, "exit");
  }));
});

/** A throwaway redis-server on a free loopback port, for tests that stop and restart Redis. Keeps nothing on disk. */
export async function startRedisServer(): Promise<{ url: string; stop(): Promise<void>; start(): Promise<void> }> {
  const port = await freePort();
  let child: ChildProcess | null = null;
  const start = async () => {
    const started = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: ["ignore", "pipe", "inherit"] });
    child = started;
    running.add(started);
    started.once("exit", () => running.delete(started));
    const ready = new Promise<void>((resolve, reject) => {
      child!.stdout!.on("data", (chunk: Buffer) => {
        if (chunk.toString().includes("Ready to accept connections")) resolve();
      });
      child!.once("exit", (code) => reject(new Error(`redis-server exited with ${code}`)));
    });
    await ready;
  };
  const stop = async () => {
    const c = child;
    child = null;
    if (!c || c.exitCode !== null) return;
    c.kill("SIGKILL");
    await once(c, "exit");
  };
  await start();
  return { url: `redis://127.0.0.1:${port}`, stop, start };
}

