import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pg from "pg";
import { listMigrations, migrate, MIGRATIONS_DIR, quoteIdent } from "@nagent/db";
import { inject } from "vitest";
import { TEST_PG_URL, withDatabase } from "../../support/env";
import { randomBytes } from "node:crypto";

// A database that does not exist yet: migrate() must create it.
const name = `${inject("testDbPrefix")}m_${randomBytes(4).toString("hex")}`;
const url = withDatabase(TEST_PG_URL, name);

async function query<T extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

describe("db:migrate", () => {
  afterAll(async () => {
    const c = new pg.Client({ connectionString: withDatabase(TEST_PG_URL, "postgres") });
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
    await c.end();
  });

  it("creates the missing database and applies every migration, then nothing on a second run", async () => {
    const all = listMigrations(MIGRATIONS_DIR).map((m) => m.name);
    const first = await migrate({ url, dir: MIGRATIONS_DIR });
    expect(first.applied).toEqual(all);
    const second = await migrate({ url, dir: MIGRATIONS_DIR });
    expect(second.applied).toEqual([]);
    expect(second.skipped).toEqual(all);
  });

  it("records each migration as prisma migrate deploy does (checksum = SHA-256 of the file)", async () => {
    const rows = await query<{ migration_name: string; checksum: string; finished_at: Date | null; applied_steps_count: number; id: string }>(
      `SELECT * FROM "_prisma_migrations" ORDER BY migration_name`,
    );
    const files = listMigrations(MIGRATIONS_DIR);
    expect(rows.map((r) => [r.migration_name, r.checksum])).toEqual(files.map((f) => [f.name, f.checksum]));
    for (const row of rows) {
      expect(row.finished_at).toBeInstanceOf(Date);
      expect(row.applied_steps_count).toBe(1);
      expect(row.id).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  it("is safe from several processes at once", async () => {
    const other = `${inject("testDbPrefix")}m_${randomBytes(4).toString("hex")}`;
    const otherUrl = withDatabase(TEST_PG_URL, other);
    try {
      const results = await Promise.all([1, 2, 3, 4].map(() => migrate({ url: otherUrl, dir: MIGRATIONS_DIR })));
      const appliedCounts = results.map((r) => r.applied.length).sort();
      expect(appliedCounts).toEqual([0, 0, 0, listMigrations(MIGRATIONS_DIR).length]);
    } finally {
      const c = new pg.Client({ connectionString: withDatabase(TEST_PG_URL, "postgres") });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${quoteIdent(other)} WITH (FORCE)`);
      await c.end();
    }
  });

  it("refuses to run when an applied migration was edited", async () => {
    const [firstName] = listMigrations(MIGRATIONS_DIR).map((m) => m.name);
    await query(`UPDATE "_prisma_migrations" SET checksum = 'x' WHERE migration_name = $1`, [firstName]);
    await expect(migrate({ url, dir: MIGRATIONS_DIR })).rejects.toThrow(/modified after it was applied/);
  });
});
