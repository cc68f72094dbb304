import pg from "pg";
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "./generated/client";

export type { PrismaClient };

export interface Database {
  /** The Prisma client, over `pool`. */
  readonly prisma: PrismaClient;
  /** The pg pool itself, for what Prisma does not do (LISTEN/NOTIFY, advisory locks, COPY). */
  readonly pool: pg.Pool;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  readonly url: string;
  /** Pool size. Default 10. */
  readonly max?: number;
  /** Called on an error of an idle pooled connection (e.g. the server restarted); the pool replaces it. */
  readonly onPoolError?: (error: Error) => void;
}

/** Opens a connection pool and a Prisma client over it (Prisma 7 driver adapter, no native engine). */
export function createDatabase(options: DatabaseOptions): Database {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.max ?? 10,
    // Fail fast when PostgreSQL is down instead of queueing requests behind a connect that never ends.
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
  });
  // An idle client's error (server restart, network) must not crash the process: the pool drops that client.
  pool.on("error", (error) => options.onPoolError?.(error));
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  let closed = false;
  return {
    prisma,
    pool,
    async close() {
      if (closed) return;
      closed = true;
      await prisma.$disconnect();
      await pool.end();
    },
  };
}
