// The API process: configuration, logger, infrastructure, listen, graceful shutdown. Everything else is in app.ts.
import closeWithGrace from "close-with-grace";
import { configFromProcess } from "@nagent/config";
import { createLogger } from "@nagent/logger";
import { loadRegistry, INTEGRATIONS_DIR } from "@nagent/registry";
import { buildApp } from "./app";
import { closeInfrastructure, createInfrastructure, createServices } from "./compose";

const { config } = configFromProcess({ generate: true });
// The registry names the secret credential fields the logger must redact, so it is read before the logger exists.
const logger = createLogger({ level: config.logLevel, name: "api", secretFields: loadRegistry(INTEGRATIONS_DIR).secretFields() });
const infra = await createInfrastructure(config, logger);
const services = createServices(infra);
const app = await buildApp({ config, db: infra.db, redis: infra.redis, registry: infra.registry, services }, { logger });

closeWithGrace({ delay: config.shutdownTimeoutMs, logger }, async ({ signal, err }) => {
  if (err) logger.error({ err }, "closing after an uncaught error");
  else logger.info({ signal }, "closing: no new requests, finishing in-flight ones");
  await app.close();
  await services.executeAction.settle(); // inline attempts that outlived their requests
  await closeInfrastructure(infra);
});

await app.listen({ host: config.host, port: config.port });
