import { describe, expect, it } from "vitest";
import { loadConfig } from "@nagent/config";
import { runningThresholdMs } from "./sweep-stuck-runs";

const SECRETS = { NAGENT_ADMIN_TOKEN: "a".repeat(40), NAGENT_MASTER_KEYS: `v1:${Buffer.alloc(32, 7).toString("base64")}` };
const thresholdOf = (env: Record<string, string>) => {
  const config = loadConfig({ ...SECRETS, ...env });
  return { threshold: runningThresholdMs(config.workerLockMs, config.upstreamTimeoutMs), upstreamTimeoutMs: config.upstreamTimeoutMs };
};

describe("the stuck-run sweeper's running threshold", () => {
  it("is three job locks by default", () => {
    const config = loadConfig(SECRETS);
    expect(runningThresholdMs(config.workerLockMs, config.upstreamTimeoutMs)).toBe(config.workerLockMs * 3);
  });

  it("outlasts an inline attempt's two upstream calls, however short the job lock", () => {
    for (const env of [{ NAGENT_WORKER_LOCK_MS: "5000" }, { NAGENT_WORKER_LOCK_MS: "5000", NAGENT_UPSTREAM_TIMEOUT_MS: "120000" }]) {
      const { threshold, upstreamTimeoutMs } = thresholdOf(env);
      expect(threshold).toBeGreaterThan(upstreamTimeoutMs * 2);
    }
  });
});
