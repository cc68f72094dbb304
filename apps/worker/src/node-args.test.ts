import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { loadConfig } from "@nagent/config";
import { workerNodeArgs } from "./node-args";

const SECRETS = { NAGENT_ADMIN_TOKEN: "a".repeat(40), NAGENT_MASTER_KEYS: `v1:${Buffer.alloc(32, 7).toString("base64")}` };
const NODE_ARGS = new URL("./node-args.ts", import.meta.url).href;

/**
 * What a Node process started with `args` reports: its V8 heap limit, MiB, and what `heapBudget` (the check the
 * worker logs at boot) says of it for `workerHeapMb`. The process is real, so the limit is V8's, not a formula's.
 */
function childHeap(args: readonly string[], workerHeapMb: number): { limitMb: number; asConfigured: boolean } {
  const script = `const { getHeapStatistics } = await import("node:v8"); const { heapBudget } = await import(${JSON.stringify(NODE_ARGS)});
process.stdout.write(JSON.stringify({ limitMb: getHeapStatistics().heap_size_limit / 1048576, asConfigured: heapBudget({ workerHeapMb: ${workerHeapMb} }).asConfigured }));`;
  const out = spawnSync(process.execPath, [...args, "--import", "tsx", "--input-type=module", "-e", script], { encoding: "utf8" });
  expect(out.status, out.stderr).toBe(0);
  return JSON.parse(out.stdout) as { limitMb: number; asConfigured: boolean };
}

describe("the worker's heap budget", () => {
  it("defaults to 1024 MiB (README: NAGENT_WORKER_HEAP_MB), is bounded, and becomes --max-old-space-size", () => {
    expect(loadConfig(SECRETS).workerHeapMb).toBe(1024);
    expect(loadConfig({ ...SECRETS, NAGENT_WORKER_HEAP_MB: "512" }).workerHeapMb).toBe(512);
    expect(() => loadConfig({ ...SECRETS, NAGENT_WORKER_HEAP_MB: "64" })).toThrow(/NAGENT_WORKER_HEAP_MB/);
    expect(workerNodeArgs({ workerHeapMb: 512 })).toEqual(["--max-old-space-size=512"]);
  });

  it("bounds the heap of a process started with workerNodeArgs, and that process reports it as configured", () => {
    const child = childHeap(workerNodeArgs({ workerHeapMb: 300 }), 300);
    // V8 adds the young generation (16–64 MiB by default) on top of the old generation's 300 MiB.
    expect(child.limitMb).toBeGreaterThanOrEqual(300);
    expect(child.limitMb).toBeLessThan(400);
    expect(child.asConfigured).toBe(true);
  });

  it("a process started without the flag reports that it does not run with the budget", () => {
    // Without the flag V8 sizes the heap from the machine's memory (2 GiB or more on any machine the tests run on),
    // far above a 300 MiB budget.
    const child = childHeap([], 300);
    expect(child.limitMb).toBeGreaterThan(1000);
    expect(child.asConfigured).toBe(false);
  });

  it("`npm run worker` passes it, with the same default", () => {
    const scripts = (JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as { scripts: Record<string, string> }).scripts;
    expect(scripts["worker"]).toContain("--max-old-space-size=${NAGENT_WORKER_HEAP_MB:-1024}");
  });
});
