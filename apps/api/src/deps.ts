import type { Redis } from "ioredis";
import type { Config } from "@nagent/config";
import type { Database } from "@nagent/db";
import type { Registry } from "@nagent/registry";
import type { Services } from "./compose";

/**
 * What the app is built from. Processes build these once (server.ts); tests build them against test services.
 * Its own module so that the routes can take it without importing app.ts, which imports them.
 */
export interface AppDeps {
  readonly config: Config;
  readonly db: Database;
  /** A Redis connection for readiness checks (fail-fast: no offline queue). */
  readonly redis: Redis;
  readonly registry: Registry;
  readonly services: Services;
}
