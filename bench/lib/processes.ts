import { spawn } from "node:child_process";
import { once } from "node:events";

export interface Child {
  readonly name: string;
  readonly pid: number;
  /** Whether the process has exited (a benchmark stops when one of its processes dies). */
  exited(): boolean;
  stop(): Promise<void>;
}

/**
 * Starts a TypeScript entry point as its own Node process, with `nodeArgs` as `npm start` gives them; its stderr is
 * shown (prefixed), stdout dropped.
 */
export function startChild(name: string, entry: string, env: NodeJS.ProcessEnv, nodeArgs: readonly string[] = []): Child {
  const child = spawn(process.execPath, [...nodeArgs, "--import", "tsx", entry], { env, stdio: ["ignore", "ignore", "pipe"] });
  child.stderr!.on("data", (chunk: Buffer) => {
    for (const line of chunk.toString().split("\n").filter(Boolean)) process.stderr.write(`[${name}] ${line}\n`);
  });
  const exited = once(child, "exit");
  return {
    name,
    pid: child.pid!,
    exited: () => child.exitCode !== null || child.signalCode !== null,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

// One loopback-port finder for benchmarks and tests alike (both are dev-only).
export { freePort } from "../../test/support/net";

/** Polls `check` until it is true; throws after `timeoutMs`. */
export async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string, intervalMs = 200): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`timed out waiting for ${what}`);
}
