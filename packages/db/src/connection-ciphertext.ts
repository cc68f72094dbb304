import type pg from "pg";

/**
 * A connection's sealed credentials as stored now, or null when the connection is gone. What `vault.openLatest`
 * reads again when a data-key rotation re-sealed the column after the caller's first read.
 */
export async function readConnectionCiphertext(pool: pg.Pool, workspaceId: string, connectionId: string): Promise<Buffer | null> {
  const { rows } = await pool.query<{ ciphertext: Buffer }>(`SELECT ciphertext FROM connection WHERE id = $1 AND workspace_id = $2`, [connectionId, workspaceId]);
  return rows[0]?.ciphertext ?? null;
}
