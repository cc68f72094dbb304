import { randomBytes } from "node:crypto";
import { loadConfig, type Config } from "@nagent/config";
import { TEST_REDIS_URL } from "./env";
import { testQueuePrefix } from "./redis";

/** A valid configuration for a test: fresh secrets, the test's own database URL and queue prefix. */
export function testConfig(databaseUrl: string, env: Record<string, string> = {}): Config {
  return loadConfig({
    NODE_ENV: "test",
    LOG_LEVEL: "silent",
    DATABASE_URL: databaseUrl,
    REDIS_URL: TEST_REDIS_URL,
    NAGENT_ADMIN_TOKEN: `nat_${randomBytes(32).toString("base64url")}`,
    NAGENT_MASTER_KEYS: `v1:${randomBytes(32).toString("base64")}`,
    NAGENT_QUEUE_PREFIX: testQueuePrefix(),
    ...env,
  });
}
