import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";

export interface Child {
  readonly name: string;
  readonly pid: number;
  /** Whether the process has exited (a benchmark stops when one of its processes dies). */
  exited(): boolean;
  stop(): Promise<void>;
}

/**
 * Every child still running: killed when this process ends, however it ends (a benchmark stopped by a signal or a
 * timeout must not leave an API and a worker at work on the next run's database).
 */
const running = new Set<ChildProcess>();
const killAll = () => {
  for (const child of running) child.kill("SIGKILL");
};
process.once("exit", killAll);
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.once(signal, () => {
    killAll();
    process.exit(128 + (signal === "SIGINT" ? 2 : signal === "SIGTERM" ? 15 : 1));
  });
}

/**
 * Starts a TypeScript entry point as its own Node process, with `nodeArgs` as `npm start` gives them; its stderr is
 * shown (prefixed), and of its stdout (the JSON log) the warnings and errors.
 */
export function startChild(name: string, entry: string, env: NodeJS.ProcessEnv, nodeArgs: readonly string[] = []): Child {
  const child = spawn(process.execPath, [...nodeArgs, "--import", "tsx", entry], { env, stdio: ["ignore", "pipe", "pipe"] });
  // Whole lines only: a chunk may end inside one.
  const show = (keep: (line: string) => boolean) => {
    let rest = "";
    return (chunk: Buffer) => {
      const lines = (rest + chunk.toString()).split("\n");
      rest = lines.pop()!;
      for (const line of lines.filter(keep)) process.stderr.write(`[${name}] ${line}\n`);
    };
  };
  child.stderr!.on("data", show(Boolean));
  child.stdout!.on("data", show((line) => /"level":"(warn|error|fatal)"/.test(line)));
  running.add(child);
  const exited = once(child, "exit").finally(() => running.delete(child));
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
