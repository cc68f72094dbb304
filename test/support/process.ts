import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";

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
