// Runs once before the suite: builds a migrated template database that every test file copies (CREATE DATABASE …
// TEMPLATE is far faster than migrating each copy), and drops databases left behind by runs that are no longer alive.
import pg from "pg";
import type { TestProject } from "vitest/node";
import { migrate, MIGRATIONS_DIR, quoteIdent } from "@nagent/db";
import { ownerPid, runPrefix, TEST_PG_URL, withDatabase } from "./env";

declare module "vitest" {
  export interface ProvidedContext {
    /** Name of the migrated template database of this run. */
    templateDb: string;
    /** Prefix of this run's test databases. */
    testDbPrefix: string;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function dropWhere(predicate: (name: string) => boolean): Promise<void> {
  const admin = new pg.Client({ connectionString: withDatabase(TEST_PG_URL, "postgres") });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ datname: string }>("SELECT datname FROM pg_database WHERE datname LIKE 'nagent\\_t%'");
    for (const { datname } of rows) {
      if (predicate(datname)) await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(datname)} WITH (FORCE)`);
    }
  } finally {
    await admin.end();
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const prefix = runPrefix(process.pid);
  const template = `${prefix}template`;
  await dropWhere((name) => {
    const pid = ownerPid(name);
    return pid !== null && (pid === process.pid || !alive(pid));
  });
  // migrate() creates the database.
  await migrate({ url: withDatabase(TEST_PG_URL, template), dir: MIGRATIONS_DIR });
  project.provide("templateDb", template);
  project.provide("testDbPrefix", prefix);
  return async () => {
    await dropWhere((name) => name.startsWith(prefix));
  };
}
