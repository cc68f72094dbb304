// Triggers benchmark: `npx tsx bench/triggers/index.ts` (or `npm run bench -- triggers`). Measures, in one run, a
// Scale callback accepted by the inbound URL → the signed delivery received by a subscriber on loopback: p50/p99 at a
// steady rate, and the sustained events/s under a flood, each beside the same figure for a bare HTTP POST of the same
// body to the same receiver (the floor: what any webhook hop costs on this machine).
// The measurement is bench/triggers/delivery.measure.ts, run by vitest with bench/triggers/vitest.config.ts.
import { spawnSync } from "node:child_process";

const result = spawnSync(process.execPath, ["node_modules/vitest/vitest.mjs", "run", "--config", "bench/triggers/vitest.config.ts"], { stdio: "inherit" });
process.exit(result.status ?? 1);
