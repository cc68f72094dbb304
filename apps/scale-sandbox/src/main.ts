// The sandbox process: configuration, listen, banner, graceful shutdown. Everything else is in app.ts.
import { randomBytes } from "node:crypto";
import { ConfigError, loadSandboxConfig, readEnvironment } from "@nagent/config";
import { maskKey, startSandbox } from "./index";

/** How long a shutdown may take before the process exits anyway. */
const SHUTDOWN_TIMEOUT_MS = 10_000;

const { env } = readEnvironment(process.env, { envFile: ".env.local", generate: false });
let config;
try {
  config = loadSandboxConfig(env);
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}

// With no key configured, seed one so that a newcomer can connect at once; it lives only in this process.
const seeded = config.keys.length === 0 ? `test_${randomBytes(16).toString("hex")}` : undefined;
const keys = seeded === undefined ? config.keys : [seeded];
const sandbox = await startSandbox({ host: config.host, port: config.port, keys, logger: { level: config.logLevel } });
const settings = sandbox.control.settings();

const lines = [
  `Scale AI sandbox listening on ${sandbox.url} (API under ${sandbox.url}/v1, control under ${sandbox.url}/sandbox)`,
  seeded === undefined
    ? `Accepted keys: ${keys.map(maskKey).join(", ")} (full values: SANDBOX_KEYS, in the environment or .env.local)`
    : `No SANDBOX_KEYS set; seeded test key: ${seeded}`,
  `Try: curl -u ${seeded ?? "<key>"}: ${sandbox.url}/v1/tasks`,
  `Callbacks carry the header scale-callback-auth: ${settings.callback_auth_key}`,
];
console.log(lines.join("\n"));

let closing = false;
async function shutdown(signal: string): Promise<void> {
  if (closing) return;
  closing = true;
  console.log(`${signal}: closing the sandbox`);
  const timer = setTimeout(() => {
    console.error("The sandbox did not close in time; exiting.");
    process.exit(1);
  }, SHUTDOWN_TIMEOUT_MS);
  timer.unref();
  await sandbox.close();
  process.exit(0);
}
process.on("SIGINT", () => void shutdown("SIGINT"));
process.on("SIGTERM", () => void shutdown("SIGTERM"));
