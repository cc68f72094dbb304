// The worker process: configuration, logger, connections, workers, graceful shutdown.
import closeWithGrace from "close-with-grace";
import { configFromProcess } from "@nagent/config";
import { createDatabase } from "@nagent/db";
import { createLogger } from "@nagent/logger";
import { createRedis } from "@nagent/queue";
import { loadRegistry } from "@nagent/registry";
import { createRunner } from "@nagent/runner";
import { createVault } from "@nagent/vault";
import { INTEGRATIONS_DIR } from "@nagent/registry";
import { startWorkers } from "./worker";
import { heapBudget } from "./node-args";

const { config } = configFromProcess({ generate: true });
const registry = loadRegistry(INTEGRATIONS_DIR);
const logger = createLogger({ level: config.logLevel, name: "worker", secretFields: registry.secretFields() });
// The hot path is batched (one statement in flight per kind), so a small pool serves any worker concurrency.
const onPoolError = (err: Error) => logger.warn({ err: { message: err.message } }, "idle PostgreSQL connection failed");
const db = createDatabase({ url: config.databaseUrl, max: 10, onPoolError });
const redis = createRedis(config.redisUrl, "worker", (err) => logger.warn({ err: err.message }, "redis connection error"));
const vault = await createVault({ prisma: db.prisma, masterKeys: config.masterKeys });
const runner = createRunner({ timeoutMs: config.upstreamTimeoutMs, egress: config.egress });
const workers = await startWorkers({ config, pool: db.pool, redis, registry, vault, runner, logger });
const heap = heapBudget(config);
if (!heap.asConfigured) {
  logger.warn({ heapLimitMb: heap.mb, configuredMb: config.workerHeapMb }, "the worker runs without its heap budget (NAGENT_WORKER_HEAP_MB); start it with `npm run worker`, or node --max-old-space-size");
}

closeWithGrace({ delay: config.shutdownTimeoutMs, logger }, async ({ signal, err }) => {
  if (err) logger.error({ err }, "closing after an uncaught error");
  else logger.info({ signal }, "closing: finishing in-flight runs");
  await workers.close();
  await runner.close();
  vault.close();
  await Promise.allSettled([db.close(), redis.quit()]);
});
