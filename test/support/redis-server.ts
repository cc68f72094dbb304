import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { freePort } from "./net";

/** A throwaway redis-server on a free loopback port, for tests that stop and restart Redis. Keeps nothing on disk. */
export async function startRedisServer(): Promise<{ url: string; stop(): Promise<void>; start(): Promise<void> }> {
  const port = await freePort();
  let child: ChildProcess | null = null;
  const start = async () => {
    child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: ["ignore", "pipe", "inherit"] });
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

