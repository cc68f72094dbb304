/** Where the test suite finds PostgreSQL and Redis: the same variables as the platform, with local defaults. */
export const TEST_PG_URL = process.env["TEST_DATABASE_URL"] ?? process.env["DATABASE_URL"] ?? "postgresql://postgres@127.0.0.1:5432/nagent_test";
export const TEST_REDIS_URL = process.env["REDIS_URL"] ?? "redis://127.0.0.1:6379";

/**
 * Test databases are named `nagent_t<pid>_<suffix>` after the vitest process that owns them, so several runs on one
 * machine never drop each other's databases, and a run can drop what a dead run left behind.
 */
export const TEST_DB_PREFIX = "nagent_t";

export function runPrefix(pid: number): string {
  return `${TEST_DB_PREFIX}${pid}_`;
}

/** The pid of the run that owns a test database, or null for other names. */
export function ownerPid(datname: string): number | null {
  const match = /^nagent_t(\d+)_/.exec(datname);
  return match ? Number(match[1]) : null;
}

export function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}
