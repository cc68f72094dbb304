import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { loadConfig } from "@nagent/config";
import { heapBudget, workerNodeArgs } from "./node-args";

const SECRETS = { NAGENT_ADMIN_TOKEN: "a".repeat(40), NAGENT_MASTER_KEYS: `v1:${Buffer.alloc(32, 7).toString("base64")}` };

/** The heap limit, MiB, of a Node process started with `args`. */
function heapLimitWith(args: readonly string[]): number {
  const out = spawnSync(process.execPath, [...args, "-e", "process.stdout.write(String(require('node:v8').getHeapStatistics().heap_size_limit))"], { encoding: "utf8" });
  expect(out.status, out.stderr).toBe(0);
  return Number(out.stdout) / 1024 / 1024;
}

describe("the worker's heap budget", () => {
  it("defaults to 1024 MiB, is bounded, and becomes --max-old-space-size", () => {
    expect(loadConfig(SECRETS).workerHeapMb).toBe(1024);
    expect(loadConfig({ ...SECRETS, NAGENT_WORKER_HEAP_MB: "512" }).workerHeapMb).toBe(512);
    expect(() => loadConfig({ ...SECRETS, NAGENT_WORKER_HEAP_MB: "64" })).toThrow(/NAGENT_WORKER_HEAP_MB/);
    expect(workerNodeArgs({ workerHeapMb: 512 })).toEqual(["--max-old-space-size=512"]);
  });

  it("is what a process started with workerNodeArgs runs with", () => {
    const limit = heapLimitWith(workerNodeArgs({ workerHeapMb: 300 }));
    expect(limit).toBeGreaterThanOrEqual(300);
    expect(limit).toBeLessThan(300 + 256);
  });

  it("is told apart from a process started without it", () => {
    const here = heapBudget({ workerHeapMb: 128 });
    expect(here.asConfigured).toBe(here.mb >= 128 && here.mb <= 128 + 256);
    expect(heapBudget({ workerHeapMb: here.mb }).asConfigured).toBe(true);
  });

  it("`npm run worker` passes it, with the same default", () => {
    const scripts = (JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as { scripts: Record<string, string> }).scripts;
    expect(scripts["worker"]).toContain(`--max-old-space-size=\${NAGENT_WORKER_HEAP_MB:-${loadConfig(SECRETS).workerHeapMb}}`);
  });
});
