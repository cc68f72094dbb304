import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Redis } from "ioredis";
import { buildApp } from "../../../apps/api/src/app";
import { createDatabase } from "@nagent/db";
import { createTestApp, type TestApp } from "../../support/app";
import { startRedisServer } from "../../support/redis-server";

let t: TestApp;
beforeAll(async () => (t = await createTestApp()));
afterAll(() => t.close());

describe("health", () => {
  it("answers liveness without credentials", async () => {
    const res = await t.app.inject({ method: "GET", url: "/healthz" });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: "ok" });
  });

  it("is ready when PostgreSQL and Redis answer", async () => {
    const res = await t.app.inject({ method: "GET", url: "/readyz" });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: "ok", checks: { postgres: "up", redis: "up" } });
  });

  it("answers 503 naming Redis when Redis does not answer, and 200 again when it does", async () => {
    // A Redis client pointed at a closed port stands for Redis being down; swapping it back stands for its return.
    const down = new Redis("redis://127.0.0.1:1", { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: true, retryStrategy: () => 50 });
    down.on("error", () => {});
    down.connect().catch(() => {});
    const app = await buildApp({ ...t.deps, redis: down });
    try {
      const res = await app.inject({ method: "GET", url: "/readyz" });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toEqual({ status: "unavailable", checks: { postgres: "up", redis: "down" } });
    } finally {
      await app.close();
      down.disconnect();
    }
    expect((await t.app.inject({ method: "GET", url: "/readyz" })).statusCode).toBe(200);
  });

  it("answers 503 naming PostgreSQL when PostgreSQL does not answer", async () => {
    const db = createDatabase({ url: "postgresql://postgres@127.0.0.1:1/nagent" });
    const app = await buildApp({ ...t.deps, db });
    try {
      const res = await app.inject({ method: "GET", url: "/readyz" });
      expect(res.statusCode).toBe(503);
      expect(res.json().checks).toEqual({ postgres: "down", redis: "up" });
    } finally {
      await app.close();
      await db.close();
    }
  });

  it("recovers: a Redis that stops turns readiness to 503, and back to 200 when it returns", async () => {
    const server = await startRedisServer();
    const redis = new Redis(server.url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, retryStrategy: () => 100 });
    redis.on("error", () => {});
    const app = await buildApp({ ...t.deps, redis });
    try {
      await expect.poll(async () => (await app.inject({ method: "GET", url: "/readyz" })).statusCode).toBe(200);
      await server.stop();
      await expect.poll(async () => (await app.inject({ method: "GET", url: "/readyz" })).json().checks.redis).toBe("down");
      expect((await app.inject({ method: "GET", url: "/readyz" })).statusCode).toBe(503);
      await server.start();
      await expect.poll(async () => (await app.inject({ method: "GET", url: "/readyz" })).statusCode, { timeout: 10_000 }).toBe(200);
    } finally {
      await app.close();
      redis.disconnect();
      await server.stop();
    }
  });
});
