import type { FastifyInstance } from "fastify";
import { Redis } from "ioredis";
import { buildApp, createServices, type AppDeps } from "../../apps/api/src/app";
import type { Config } from "@nagent/config";
import { createLogger } from "@nagent/logger";
import { Writable } from "node:stream";
import { createTestDatabase, type TestDatabase } from "./database";
import { testConfig } from "./config";

export interface TestApp {
  readonly app: FastifyInstance;
  readonly db: TestDatabase;
  readonly config: Config;
  readonly deps: AppDeps;
  /** Every log line the app wrote (JSON strings), for tests that search logs. */
  readonly logs: string[];
  /** Creates a workspace through the admin route and returns its id and first API key. */
  createWorkspace(name?: string): Promise<{ id: string; apiKey: string }>;
  close(): Promise<void>;
}

/** The API built against a fresh test database and the real Redis, driven with `app.inject()`. */
export async function createTestApp(options: { env?: Record<string, string>; redisUrl?: string } = {}): Promise<TestApp> {
  const db = await createTestDatabase();
  const config = testConfig(db.url, { LOG_LEVEL: "debug", ...(options.env ?? {}) });
  const redis = new Redis(options.redisUrl ?? config.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: true });
  redis.on("error", () => {});
  await redis.connect().catch(() => {});
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      logs.push(...chunk.toString("utf8").split("\n").filter(Boolean));
      callback();
    },
  });
  const logger = createLogger({ level: config.logLevel, destination: sink });
  const deps: AppDeps = { config, db, redis, services: createServices({ db }) };
  const app = await buildApp(deps, { logger });
  await app.ready();
  return {
    app,
    db,
    config,
    deps,
    logs,
    async createWorkspace(name = "Acme") {
      const res = await app.inject({ method: "POST", url: "/v1/workspaces", headers: { authorization: `Bearer ${config.adminToken}` }, payload: { name } });
      if (res.statusCode !== 201) throw new Error(`createWorkspace: ${res.statusCode} ${res.body}`);
      const body = res.json() as { workspace: { id: string }; api_key: string };
      return { id: body.workspace.id, apiKey: body.api_key };
    },
    async close() {
      await app.close();
      redis.disconnect();
      await db.drop();
    },
  };
}

export function bearer(token: string): { authorization: string } {
  return { authorization: `Bearer ${token}` };
}
