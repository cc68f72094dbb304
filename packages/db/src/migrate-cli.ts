// `npm run db:migrate`: creates the database if missing and applies pending migrations.
import { configFromProcess } from "@nagent/config";
import { migrate } from "./migrate";
import { MIGRATIONS_DIR } from "./paths";

const { config } = configFromProcess({ generate: false, secrets: false });
try {
  const result = await migrate({ url: config.databaseUrl, dir: MIGRATIONS_DIR, log: (m) => console.log(m) });
  console.log(`migrations: ${result.applied.length} applied, ${result.skipped.length} already applied`);
} catch (error) {
  console.error((error as Error).message);
  process.exit(1);
}
