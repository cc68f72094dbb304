// Runs once before the suite: builds a migrated template database that every test file copies (CREATE DATABASE …
// TEMPLATE is far faster than migrating each copy), and drops databases left behind by an interrupted run.
import pg from "pg";
import { migrate, MIGRATIONS_DIR, quoteIdent } from "@nagent/db";
import { TEMPLATE_DB, TEST_DB_PREFIX, TEST_PG_URL, withDatabase } from "./env";

export default async function setup(): Promise<() => Promise<void>> {
  const admin = new pg.Client({ connectionString: withDatabase(TEST_PG_URL, "postgres") });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ datname: string }>("SELECT datname FROM pg_database WHERE datname LIKE $1 OR datname = $2", [`${TEST_DB_PREFIX}%`, TEMPLATE_DB]);
    for (const { datname } of rows) await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(datname)} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${quoteIdent(TEMPLATE_DB)}`);
  } finally {
    await admin.end();
  }
  await migrate({ url: withDatabase(TEST_PG_URL, TEMPLATE_DB), dir: MIGRATIONS_DIR });
  return async () => {
    const client = new pg.Client({ connectionString: withDatabase(TEST_PG_URL, "postgres") });
    await client.connect();
    try {
      const { rows } = await client.query<{ datname: string }>("SELECT datname FROM pg_database WHERE datname LIKE $1", [`${TEST_DB_PREFIX}%`]);
      for (const { datname } of rows) await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(datname)} WITH (FORCE)`);
    } finally {
      await client.end();
    }
  };
}
