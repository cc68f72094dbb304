import { Redis } from "ioredis";
import { loadConfig } from "@nagent/config";
import type { Registry } from "@nagent/registry";
import { buildApp, type AppDeps } from "../../../apps/api/src/app";

/**
 * A stand-in for the app's infrastructure while only its routes are registered: every property is callable and
 * answers another stand-in. Building the OpenAPI document registers routes and never calls a service, a database
 * or Redis, so the document is built offline, with no server, database or Redis running.
 */
function inert(): never {
  const target = function () {} as unknown as object;
  const proxy: unknown = new Proxy(target, {
    get: (_t, key) => (key === "then" || typeof key === "symbol" ? undefined : proxy),
    // Calls answer nothing: close hooks hand what they resolve to to `done`, where anything defined is an error.
    apply: () => undefined,
  });
  return proxy as never;
}

/** The API's `/openapi.json`, as the server built from `registry` would serve it. */
export async function buildOpenApiDocument(registry: Registry): Promise<Record<string, unknown>> {
  const config = loadConfig({
    NODE_ENV: "test",
    LOG_LEVEL: "silent",
    DATABASE_URL: "postgresql://unused@127.0.0.1:1/unused",
    REDIS_URL: "redis://127.0.0.1:1",
    NAGENT_ADMIN_TOKEN: "x".repeat(40),
    NAGENT_MASTER_KEYS: `v1:${Buffer.alloc(32).toString("base64")}`,
  });
  // The metrics plugin hands its Redis client to a BullMQ queue, which wants a real one: a client that never
  // connects (lazyConnect, no offline queue) serves, and nothing is ever sent through it.
  const redis = new Redis({ lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on("error", () => {});
  const deps: AppDeps = { config, db: inert(), redis, registry, services: inert() };
  const app = await buildApp(deps);
  await app.ready();
  try {
    return structuredClone(app.swagger()) as unknown as Record<string, unknown>;
  } finally {
    // Closing runs the routes' close hooks against the stand-ins; what they answer does not matter here.
    await app.close().catch(() => {});
    redis.disconnect();
  }
}
