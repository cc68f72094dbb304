// The API process: configuration, logger, connections, listen, graceful shutdown. Everything else is in app.ts.
import closeWithGrace from "close-with-grace";
import { configFromProcess } from "@nagent/config";
import { createDatabase } from "@nagent/db";
import { createLogger } from "@nagent/logger";
import { Redis } from "ioredis";
import { buildApp, createServices } from "./app";

const { config } = configFromProcess({ generate: true });

const logger = createLogger({ level: config.logLevel, name: "api" });
const db = createDatabase({ url: config.databaseUrl, max: 20, onPoolError: (err) => logger.warn({ err }, "idle PostgreSQL connection failed") });
// Fail fast while Redis is down (readiness answers 503 at once) instead of queueing commands until it returns.
const redis = new Redis(config.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: true });
redis.on("error", (err) => logger.debug({ err: err.message }, "redis connection error"));
redis.connect().catch(() => {});

const app = await buildApp({ config, db, redis, services: createServices({ db }) }, { logger });

closeWithGrace({ delay: config.shutdownTimeoutMs, logger }, async ({ signal, err }) => {
  if (err) logger.error({ err }, "closing after an uncaught error");
  else logger.info({ signal }, "closing: no new requests, finishing in-flight ones");
  await app.close();
  await Promise.allSettled([db.close(), redis.quit()]);
});

await app.listen({ host: config.host, port: config.port });
