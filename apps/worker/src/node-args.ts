import { getHeapStatistics } from "node:v8";
import type { Config } from "@nagent/config";

/**
 * The Node.js options a worker process starts with (`npm start`, `npm run worker`, bench/execute). V8 reads its heap
 * limits when the process starts, so the budget cannot be set from inside: without one, Node derives it from the
 * machine's memory and lets the old generation grow to several times the live heap between collections (bench/execute
 * measured the worker's RSS after a flood anywhere from +3 % to +29 %); with a budget, collections keep it level.
 */
export function workerNodeArgs(config: Pick<Config, "workerHeapMb">): string[] {
  return [`--max-old-space-size=${config.workerHeapMb}`];
}

/**
 * The heap budget this process actually runs with, MiB, and whether it is the configured one (V8 adds the young
 * generation to the old generation's limit, hence the margin).
 */
export function heapBudget(config: Pick<Config, "workerHeapMb">): { readonly mb: number; readonly asConfigured: boolean } {
  const mb = Math.round(getHeapStatistics().heap_size_limit / 1024 / 1024);
  return { mb, asConfigured: mb >= config.workerHeapMb && mb <= config.workerHeapMb + 256 };
}
