import { randomBytes } from "node:crypto";
import pg from "pg";
import { createDatabase, quoteIdent, type Database } from "@nagent/db";
import { inject } from "vitest";
import { TEST_PG_URL, withDatabase } from "./env";

export interface TestDatabase extends Database {
  readonly url: string;
  readonly name: string;
  /** Closes the pool and drops the database. */
  drop(): Promise<void>;
}

/**
 * A fresh, migrated database of the test file's own, copied from the template the global setup migrated.
 * Call `drop()` in afterAll.
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `${inject("testDbPrefix")}${randomBytes(6).toString("hex")}`;
  const template = inject("templateDb");
  const admin = new pg.Client({ connectionString: withDatabase(TEST_PG_URL, "postgres") });
  await admin.connect();
  try {
    // CREATE DATABASE … TEMPLATE fails while another session is connected to the template; retry briefly.
    for (let attempt = 0; ; attempt++) {
      try {
        await admin.query(`CREATE DATABASE ${quoteIdent(name)} TEMPLATE ${quoteIdent(template)}`);
        break;
      } catch (error) {
        if (attempt >= 20 || (error as { code?: string }).code !== "55006") throw error;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  } finally {
    await admin.end();
  }
  const url = withDatabase(TEST_PG_URL, name);
  const db = createDatabase({ url, max: 5 });
  return {
    ...db,
    url,
    name,
    async drop() {
      await db.close();
      const c = new pg.Client({ connectionString: withDatabase(TEST_PG_URL, "postgres") });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}
