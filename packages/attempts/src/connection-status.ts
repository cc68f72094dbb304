import type { Redis } from "ioredis";
import type pg from "pg";
import { recordConnectionTransition, type ConnectionTransition } from "@nagent/db";
import type { Logger } from "@nagent/logger";

/** Timeouts or 5xx answers of one connection within DEGRADED_WINDOW_MS that make an active connection degraded. */
export const DEGRADED_AFTER_FAILURES = 3;
export const DEGRADED_WINDOW_MS = 60_000;

/** Upstream errors that say the upstream is unwell (not the request, not the credentials). */
const TROUBLE_CODES = new Set(["UPSTREAM_TIMEOUT", "UPSTREAM_UNAVAILABLE"]);
export const isUpstreamTrouble = (code: string, upstreamStatus: number | undefined) =>
  TROUBLE_CODES.has(code) || (upstreamStatus !== undefined && upstreamStatus >= 500);

/** Counts a failure in the connection's current one-minute window (fixed from its first failure) and returns the count. */
const COUNT_TROUBLE = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n
`;

/**
 * What runs tell about their connection's health (see packages/db/src/connection-health.ts for the states):
 * - the upstream rejected the credentials (401/403) → invalid; later runs fail fast with CONNECTION_INVALID;
 * - DEGRADED_AFTER_FAILURES timeouts/5xx within DEGRADED_WINDOW_MS (counted in Redis, shared by every worker) → an
 *   active connection becomes degraded; its runs still go through;
 * - a successful call on a degraded connection → active again.
 * Each transition is recorded once (one connection_event), even when many runs report at once.
 */
export function createConnectionHealth(deps: { pool: pg.Pool; redis: Redis; prefix: string; logger: Logger; firstProbeInMs?: number; onTransition?: (t: ConnectionTransition) => void }) {
  const r = deps.redis as Redis & { nagentCountTrouble(keys: number, key: string, windowMs: number): Promise<number> };
  if (!("nagentCountTrouble" in r)) deps.redis.defineCommand("nagentCountTrouble", { lua: COUNT_TROUBLE });
  const key = (connectionId: string) => [deps.prefix, "health", "trouble", connectionId].join(":");

  const record = async (request: Parameters<typeof recordConnectionTransition>[1]) => {
    try {
      const transition = await recordConnectionTransition(deps.pool, { ...request, ...(deps.firstProbeInMs === undefined ? {} : { firstProbeInMs: deps.firstProbeInMs }) });
      if (transition) {
        deps.logger.info({ connectionId: transition.connectionId, from: transition.from, to: transition.to }, "connection status changed");
        deps.onTransition?.(transition);
      }
      return transition;
    } catch (error) {
      deps.logger.error({ err: { message: (error as Error).message }, connectionId: request.connectionId }, "could not record a connection status change");
      return null;
    }
  };

  return {
    /** The upstream rejected the credentials during a run. */
    rejected(workspaceId: string, connectionId: string, reason: string) {
      return record({ workspaceId, connectionId, to: "invalid", reason });
    },
    /** A timeout or 5xx during a run: degrades an active connection once the window holds enough of them. */
    async trouble(workspaceId: string, connectionId: string, reason: string) {
      const count = await r.nagentCountTrouble(1, key(connectionId), DEGRADED_WINDOW_MS).catch(() => 0);
      if (count < DEGRADED_AFTER_FAILURES) return null;
      return record({ workspaceId, connectionId, to: "degraded", from: ["active"], reason: `${count} timeouts or 5xx answers within ${DEGRADED_WINDOW_MS / 1000} s; last: ${reason}` });
    },
    /** A successful call on a connection the claim saw degraded. */
    recovered(workspaceId: string, connectionId: string) {
      return record({ workspaceId, connectionId, to: "active", from: ["degraded"], reason: "a call succeeded" });
    },
  };
}

export type ConnectionHealth = ReturnType<typeof createConnectionHealth>;
