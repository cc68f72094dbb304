import { defineConfig } from "vitest/config";

// bench/triggers' measurement runs under vitest (it reuses test/support's stack: real PostgreSQL, Redis, worker,
// sandbox) but is not part of `npm test`: its file is *.measure.ts, outside the suite's include patterns.
export default defineConfig({
  test: { include: ["bench/triggers/*.measure.ts"], globalSetup: ["test/support/global-setup.ts"], pool: "forks", maxWorkers: 1, testTimeout: 300_000, hookTimeout: 60_000 },
});
