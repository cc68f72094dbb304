// MCP benchmark: `npx tsx bench/mcp/index.ts` (or `npm run bench -- mcp`). Measures, in one run, the latency of
// tools/call of SCALE_AI_LIST_PROJECTS over HTTP in both protocol generations (2025-11-25 with the SDK 1.x Client,
// 2026-07-28 with the v2 client) against POST /v1/actions/:slug/execute of the same action over HTTP (interleaved,
// same app, worker and sandbox), and prints p50/p99 of each and the overhead. MCP_BENCH_SAMPLES=30 for a short run.
// The measurement itself is bench/mcp/overhead.measure.ts, run by vitest with bench/mcp/vitest.config.ts.
import { spawnSync } from "node:child_process";

const result = spawnSync(process.execPath, ["node_modules/vitest/vitest.mjs", "run", "--config", "bench/mcp/vitest.config.ts"], { stdio: "inherit" });
process.exit(result.status ?? 1);
