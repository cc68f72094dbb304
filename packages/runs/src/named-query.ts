import type pg from "pg";

/**
 * Runs a named prepared statement: PostgreSQL parses and plans it once per connection, and the long CTE texts are
 * not sent again on each call (the run store's statements are on the path of every run).
 */
export type NamedQuery = <R extends pg.QueryResultRow = pg.QueryResultRow>(name: string, text: string, values: unknown[]) => Promise<pg.QueryResult<R>>;

export function namedQuery(pool: pg.Pool): NamedQuery {
  return (name, text, values) => pool.query({ name, text, values });
}
