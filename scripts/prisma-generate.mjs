// Generates the Prisma client from prisma/schema.prisma at install time.
//
// Why a script: the Prisma 7 CLI looks for its native schema engine at start and, on machines that cannot download
// it (see ENVIRONMENT.md), stops before generating. Generation never calls that engine, so any existing file will do;
// we point PRISMA_SCHEMA_ENGINE_BINARY at this script unless the caller chose a real engine.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const env = {
  ...process.env,
  PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? fileURLToPath(import.meta.url),
  CHECKPOINT_DISABLE: "1",
  PRISMA_HIDE_UPDATE_MESSAGE: "1",
};
const result = spawnSync("npx", ["--no-install", "prisma", "generate"], { stdio: "inherit", env });
process.exit(result.status ?? 1);
