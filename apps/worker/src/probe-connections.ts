import type pg from "pg";
import { readConnectionCiphertext, recordConnectionTransition, type ConnectionTransition } from "@nagent/db";
import type { Logger } from "@nagent/logger";
import type { Registry } from "@nagent/registry";
import type { Runner } from "@nagent/runner";
import { CONNECTION_CREDENTIALS, type Vault } from "@nagent/vault";

export interface ProbeOptions {
  /** Connections probed per round at most. */
  readonly batch: number;
  /** The delay before the second probe of a connection; it doubles after each failed probe, up to `capMs`. */
  readonly baseMs: number;
  readonly capMs: number;
}

export const DEFAULT_PROBE_OPTIONS: ProbeOptions = { batch: 50, baseMs: 30_000, capMs: 60 * 60_000 };

/**
 * The health probe (a maintenance job): re-tests degraded and invalid connections whose `next_probe_at` is due with the
 * integration manifest's `auth.check`, the request a connection test sends. Success brings the connection back to
 * active (one event); a 401/403 makes it invalid; any other failure keeps its status. A failed probe pushes the next one
 * back exponentially (baseMs · 2^failures, capped), so a connection dead for days costs one request an hour.
 * Each connection is taken by one worker (its next_probe_at is moved forward before the check).
 */
export function createConnectionProber(deps: { pool: pg.Pool; registry: Registry; runner: Runner; vault: Vault; logger: Logger; defaultBaseUrl: (integration: string) => string; options: ProbeOptions; onTransition?: (t: ConnectionTransition) => void }) {
  const { pool, options } = deps;
  const backoffMs = (failures: number) => Math.min(options.capMs, options.baseMs * 2 ** Math.min(failures, 30));

  return async function probe(): Promise<{ probed: number; recovered: number }> {
    // Take the due connections: push their next probe back first, so another worker's round does not take them too.
    const { rows } = await pool.query<{ id: string; workspace_id: string; integration: string; status: string; ciphertext: Buffer; base_url: string | null; probe_failures: number }>(
      `UPDATE connection c SET next_probe_at = now() + make_interval(secs => $2::double precision / 1000)
       FROM (SELECT id FROM connection WHERE status IN ('degraded', 'invalid') AND (next_probe_at IS NULL OR next_probe_at <= now())
             ORDER BY next_probe_at NULLS FIRST LIMIT $1 FOR UPDATE SKIP LOCKED) due
       WHERE c.id = due.id
       RETURNING c.id, c.workspace_id, c.integration, c.status, c.ciphertext, c.base_url, c.probe_failures`,
      [options.batch, options.capMs],
    );
    let recovered = 0;
    for (const row of rows) {
      const auth = deps.registry.getAuthSpec(row.integration);
      if (!auth) continue;
      let credentials: Record<string, string>;
      try {
        const secret = await deps.vault.openLatest(row.workspace_id, { connectionId: row.id, purpose: CONNECTION_CREDENTIALS }, row.ciphertext, () => readConnectionCiphertext(pool, row.workspace_id, row.id));
        try {
          credentials = JSON.parse(secret.toString("utf8")) as Record<string, string>;
        } finally {
          secret.fill(0);
        }
      } catch {
        // Unreadable credentials cannot come back by themselves: probe again only after the longest backoff.
        deps.logger.warn({ connectionId: row.id }, "connection probe: credentials cannot be opened");
        continue;
      }
      const result = await deps.runner.check(auth, credentials, row.base_url ?? deps.defaultBaseUrl(row.integration));
      let transition: ConnectionTransition | null = null;
      if (result.ok) {
        transition = await recordConnectionTransition(pool, { workspaceId: row.workspace_id, connectionId: row.id, to: "active", reason: "the health probe's check succeeded" });
        if (transition) recovered++;
      } else {
        const rejected = result.error.upstream_status === 401 || result.error.upstream_status === 403;
        if (rejected) {
          transition = await recordConnectionTransition(pool, { workspaceId: row.workspace_id, connectionId: row.id, to: "invalid", reason: `the health probe's check was refused: ${result.error.message}`, firstProbeInMs: backoffMs(row.probe_failures + 1) });
        }
        if (!transition) {
          await pool.query(
            `UPDATE connection SET probe_failures = probe_failures + 1, next_probe_at = now() + make_interval(secs => $3::double precision / 1000), last_error = $4
             WHERE id = $1 AND workspace_id = $2 AND status <> 'active'`,
            [row.id, row.workspace_id, backoffMs(row.probe_failures + 1), result.error.message.slice(0, 1000)],
          );
        }
      }
      if (transition) {
        deps.logger.info({ connectionId: row.id, from: transition.from, to: transition.to }, "connection status changed by the probe");
        deps.onTransition?.(transition);
      }
    }
    return { probed: rows.length, recovered };
  };
}
