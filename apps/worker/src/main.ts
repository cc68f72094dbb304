// The worker process. (The run processor arrives with the execution API; until then it only holds its connections
// and shuts down cleanly.)
import closeWithGrace from "close-with-grace";
import { configFromProcess } from "@nagent/config";
import { createLogger } from "@nagent/logger";

const { config } = configFromProcess({ generate: true });
const logger = createLogger({ level: config.logLevel, name: "worker" });
const keepAlive = setInterval(() => {}, 60_000);
logger.info("worker started");
closeWithGrace({ delay: config.shutdownTimeoutMs, logger }, async () => {
  clearInterval(keepAlive);
});
