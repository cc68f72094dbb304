import type pg from "pg";

/**
 * The upstream rejected a connection's credentials during a run: mark it `invalid` with the reason, so later runs
 * fail fast with CONNECTION_INVALID until its credentials are replaced (which tests them again).
 */
export async function markConnectionInvalid(pool: pg.Pool, workspaceId: string, connectionId: string, reason: string): Promise<void> {
  await pool.query(
    `UPDATE connection SET status = 'invalid', last_error = $3, updated_at = now() WHERE id = $1 AND workspace_id = $2 AND status <> 'invalid'`,
    [connectionId, workspaceId, reason.slice(0, 1000)],
  );
}
