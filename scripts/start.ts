// `npm start`: the whole platform on this machine for development. Generates the development secrets on a first run
// (into the git-ignored .env.local), applies migrations, then runs the Scale AI sandbox, the API and the worker as
// child processes, printing where they are. Ctrl-C stops all three; if one dies, the others are stopped too.
import { spawn, type ChildProcess } from "node:child_process";
import { ConfigError, configFromProcess, loadSandboxConfig } from "@nagent/config";
import { migrate, MIGRATIONS_DIR } from "@nagent/db";
import { workerNodeArgs } from "../apps/worker/src/node-args";

const { config, env, generated } = configFromProcess({ generate: true });
const sandbox = (() => {
  try {
    return loadSandboxConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    process.exit(1);
  }
})();

const sandboxUrl = `http://${sandbox.host}:${sandbox.port}`;
const childEnv: NodeJS.ProcessEnv = {
  ...process.env,
  ...env,
  // Under `npm start`, new Scale AI connections go to the local sandbox unless told otherwise.
  NAGENT_SCALE_BASE_URL: env["NAGENT_SCALE_BASE_URL"] ?? sandboxUrl,
};

try {
  const result = await migrate({ url: config.databaseUrl, dir: MIGRATIONS_DIR });
  console.log(`database: ${result.applied.length} migration(s) applied, ${result.skipped.length} already applied`);
} catch (error) {
  console.error(`Cannot migrate the database (${(error as Error).message}). Is PostgreSQL running? See README.md.`);
  process.exit(1);
}

const children = new Map<string, ChildProcess>();
let stopping = false;

function run(name: string, entry: string, nodeArgs: readonly string[] = []): void {
  const child = spawn(process.execPath, [...nodeArgs, "--import", "tsx", entry], { env: childEnv, stdio: "inherit" });
  children.set(name, child);
  child.on("exit", (code, signal) => {
    children.delete(name);
    if (!stopping) {
      console.error(`${name} exited (${signal ?? code}); stopping the others.`);
      void stop(1);
    } else if (children.size === 0) {
      process.exit(process.exitCode ?? 0);
    }
  });
}

async function stop(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  process.exitCode = code;
  for (const child of children.values()) child.kill("SIGTERM");
  // Children finish in-flight work within their own shutdown bound; after that, do not wait forever.
  setTimeout(() => {
    for (const child of children.values()) child.kill("SIGKILL");
    process.exit(code);
  }, config.shutdownTimeoutMs + 5_000).unref();
  if (children.size === 0) process.exit(code);
}

process.on("SIGINT", () => void stop(0));
process.on("SIGTERM", () => void stop(0));

run("sandbox", "apps/scale-sandbox/src/main.ts");
run("api", "apps/api/src/server.ts");
run("worker", "apps/worker/src/main.ts", workerNodeArgs(config));

const api = `http://${config.host === "0.0.0.0" ? "127.0.0.1" : config.host}:${config.port}`;
const lines = [
  "",
  "Nagent Integrations is starting:",
  `  API              ${api}/v1   (docs ${api}/docs, OpenAPI ${api}/openapi.json, readiness ${api}/readyz)`,
  `  Scale sandbox    ${sandboxUrl}/v1   test key: ${sandbox.keys[0] ?? "(none)"}`,
  `  Scale base URL   ${childEnv["NAGENT_SCALE_BASE_URL"]} (for new connections)`,
  generated.includes("NAGENT_ADMIN_TOKEN")
    ? `  Admin token      ${config.adminToken}   (first run: generated into .env.local; shown only now)`
    : "  Admin token      in .env.local (NAGENT_ADMIN_TOKEN)",
  "",
  "Create a workspace:",
  `  curl -s -X POST ${api}/v1/workspaces -H "authorization: Bearer $NAGENT_ADMIN_TOKEN" -H 'content-type: application/json' -d '{"name":"My workspace"}'`,
  "",
];
console.log(lines.join("\n"));
