/** Where the test suite finds PostgreSQL and Redis: the same variables as the platform, with local defaults. */
export const TEST_PG_URL = process.env["TEST_DATABASE_URL"] ?? process.env["DATABASE_URL"] ?? "postgresql://postgres@127.0.0.1:5432/nagent_test";
export const TEST_REDIS_URL = process.env["REDIS_URL"] ?? "redis://127.0.0.1:6379";
/** Name of the migrated template database each test file's database is copied from. */
export const TEMPLATE_DB = "nagent_test_template";
/** Prefix of the per-file databases, so a run can drop what a crashed run left behind. */
export const TEST_DB_PREFIX = "nagent_t_";

export function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}
