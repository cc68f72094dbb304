// MCP benchmark: `npx tsx bench/mcp/index.ts` (or `npm run bench -- mcp`). Measures, in one run, the latency of
// tools/call of SCALE_AI_LIST_PROJECTS through the SDK's Client over HTTP against POST /v1/actions/:slug/execute of the
// same action over HTTP (interleaved, same app, worker and sandbox), and prints p50/p99 of both and the overhead.
// The measurement itself is bench/mcp/overhead.measure.ts, run by vitest with bench/mcp/vitest.config.ts.
import { spawnSync } from "node:child_process";

const result = spawnSync(process.execPath, ["node_modules/vitest/vitest.mjs", "run", "--config", "bench/mcp/vitest.config.ts"], { stdio: "inherit" });
process.exit(result.status ?? 1);
