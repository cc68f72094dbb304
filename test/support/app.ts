import type { FastifyInstance } from "fastify";
import { Writable } from "node:stream";
import { buildApp, type AppDeps } from "../../apps/api/src/app";
import { closeInfrastructure, createInfrastructure, createServices, type Infrastructure } from "../../apps/api/src/compose";
import type { Config } from "@nagent/config";
import type { Database } from "@nagent/db";
import { createLogger, type Logger } from "@nagent/logger";
import { createTestDatabase, type TestDatabase } from "./database";
import { testConfig } from "./config";
import { deleteKeysWithPrefix } from "./redis";

export interface TestApp {
  readonly app: FastifyInstance;
  readonly db: TestDatabase;
  readonly config: Config;
  readonly deps: AppDeps;
  readonly infra: Infrastructure;
  readonly logger: Logger;
  /** Every log line the app wrote (JSON strings), for tests that search logs. */
  readonly logs: string[];
  /** Creates a workspace through the admin route and returns its id and first API key. */
  createWorkspace(name?: string): Promise<{ id: string; apiKey: string }>;
  close(): Promise<void>;
}

/** A logger whose lines are kept in memory (tests search them, e.g. for secrets). */
export function captureLogger(level: string): { logger: Logger; logs: string[] } {
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      logs.push(...chunk.toString("utf8").split("\n").filter(Boolean));
      callback();
    },
  });
  return { logger: createLogger({ level, destination: sink, secretFields: ["api_key"] }), logs };
}

/** The API built against a fresh test database and the real Redis, driven with `app.inject()`. */
export async function createTestApp(options: { env?: Record<string, string>; redisUrl?: string } = {}): Promise<TestApp> {
  const db = await createTestDatabase();
  const config = testConfig(db.url, { LOG_LEVEL: "debug", ...(options.env ?? {}) });
  const { logger, logs } = captureLogger(config.logLevel);
  const infra = await createInfrastructure(config, logger, { db, ...(options.redisUrl ? { redisUrl: options.redisUrl } : {}) });
  const deps: AppDeps = { config, db, redis: infra.redis, registry: infra.registry, services: createServices(infra) };
  const app = await buildApp(deps, { logger });
  await app.ready();
  return {
    app, db, config, deps, infra, logger, logs,
    async createWorkspace(name = "Acme") {
      const res = await app.inject({ method: "POST", url: "/v1/workspaces", headers: { authorization: `Bearer ${config.adminToken}` }, payload: { name } });
      if (res.statusCode !== 201) throw new Error(`createWorkspace: ${res.statusCode} ${res.body}`);
      const body = res.json() as { workspace: { id: string }; api_key: string };
      return { id: body.workspace.id, apiKey: body.api_key };
    },
    async close() {
      await app.close();
      await deps.services.executeAction.settle();
      await closeInfrastructure({ ...infra, db: { ...db, close: async () => {} } });
      await db.drop();
      await deleteKeysWithPrefix(config.redisUrl, config.queuePrefix);
    },
  };
}

export function bearer(token: string): { authorization: string } {
  return { authorization: `Bearer ${token}` };
}

export interface OtherApi {
  readonly app: FastifyInstance;
  readonly infra: Infrastructure;
  /** Closes the app and its infrastructure (a shared database stays open: the test app owns it). */
  close(): Promise<void>;
}

/**
 * Another API process beside the test app (as during a rolling deploy, or one whose Redis is cut): the same
 * configuration, its own infrastructure with `overrides` (another manifests directory or Redis URL; `db` shares a
 * database handle instead of opening a pool of its own).
 */
export async function startOtherApi(t: Pick<TestApp, "config" | "logger">, overrides: { logger?: Logger; redisUrl?: string; manifestsDir?: string; db?: Database } = {}): Promise<OtherApi> {
  const { logger = t.logger, ...infraOverrides } = overrides;
  const infra = await createInfrastructure(t.config, logger, infraOverrides);
  const app = await buildApp({ config: t.config, db: infra.db, redis: infra.redis, registry: infra.registry, services: createServices(infra) });
  await app.ready();
  return {
    app, infra,
    async close() {
      await app.close();
      await closeInfrastructure(overrides.db ? { ...infra, db: { ...infra.db, close: async () => {} } } : infra);
    },
  };
}

/** A test app and the Bearer header of a workspace on it: the set-up of tests that read the catalogue. */
export async function createTestAppWithWorkspace(options: Parameters<typeof createTestApp>[0] = {}): Promise<{ t: TestApp; key: { authorization: string } }> {
  const t = await createTestApp(options);
  return { t, key: bearer((await t.createWorkspace()).apiKey) };
}
