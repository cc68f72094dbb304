import type pg from "pg";
import { uuidv7 } from "./ids";

/**
 * A connection's health: `active` → `degraded` (recent timeouts or 5xx answers) → `invalid` (the upstream rejected
 * the credentials: 401/403), and back to `active` after a successful call, test or probe. Every transition goes through
 * `recordConnectionTransition`, used by the API (create/test/update) and the worker (runs, the probe).
 */
export type ConnectionStatus = "active" | "degraded" | "invalid";
export const CONNECTION_STATUSES: readonly ConnectionStatus[] = ["active", "degraded", "invalid"];

/** The platform trigger a transition publishes (by the trigger machinery, see `recordConnectionTransition`). */
export const CONNECTION_STATUS_CHANGED_TRIGGER = "NAGENT_CONNECTION_STATUS_CHANGED";

export interface ConnectionTransition {
  readonly eventId: string;
  readonly workspaceId: string;
  readonly connectionId: string;
  readonly integration: string;
  readonly from: ConnectionStatus;
  readonly to: ConnectionStatus;
  readonly reason: string;
  readonly changedAt: Date;
}

/** The payload of NAGENT_CONNECTION_STATUS_CHANGED for a transition. */
export function connectionStatusChangedPayload(t: ConnectionTransition) {
  return { connection_id: t.connectionId, integration: t.integration, from: t.from, to: t.to, reason: t.reason, changed_at: t.changedAt.toISOString() };
}

export interface TransitionRequest {
  readonly workspaceId: string;
  readonly connectionId: string;
  readonly to: ConnectionStatus;
  readonly reason: string;
  /** Only from these statuses (e.g. a run's timeout degrades an active connection, never an invalid one). */
  readonly from?: readonly ConnectionStatus[];
  /** When a degraded/invalid connection is first probed (ms from now). */
  readonly firstProbeInMs?: number;
}

/**
 * Moves a connection to `to` and records the transition as a `connection_event`, in ONE statement: the row is locked,
 * and only a real change (status differs, and is one of `from` when given) updates it and writes the event. Concurrent
 * callers (many runs failing at once) therefore produce exactly one event; the others get null.
 *
 * Moving to `active` clears last_error and the probe schedule and stamps last_verified_at; moving to degraded or
 * invalid keeps the reason as last_error and schedules the first probe.
 *
 * NAGENT_CONNECTION_STATUS_CHANGED: the committed `connection_event` row is the durable record of the transition
 * (the outbox). Each process publishes it right after this returns (its `onTransition` callback, composed with
 * `createConnectionStatusEmitter` of @nagent/triggers in apps/api/src/compose.ts and apps/worker/src/worker.ts), and
 * the worker's trigger maintenance catch-up emits the rows of the last 24 h still without their event; the event's
 * dedup key is the row's id (`nagent:connection_event:<id>`), so the two paths store one event.
 */
export async function recordConnectionTransition(pool: pg.Pool, request: TransitionRequest): Promise<ConnectionTransition | null> {
  const reason = request.reason.slice(0, 1000) || request.to;
  const { rows } = await pool.query<{ id: string; workspace_id: string; connection_id: string; integration: string; from_status: ConnectionStatus; to_status: ConnectionStatus; reason: string; created_at: Date }>({
    name: "connection-transition",
    text: `WITH prev AS (
             SELECT id, status FROM connection
             WHERE id = $1::uuid AND workspace_id = $2::uuid AND status <> $3::varchar AND ($5::text[] IS NULL OR status = ANY($5::text[]))
             FOR UPDATE
           ), upd AS (
             UPDATE connection c SET status = $3::varchar, updated_at = now(),
                    last_error = CASE WHEN $3::varchar = 'active' THEN NULL ELSE $4::varchar END,
                    last_verified_at = CASE WHEN $3::varchar = 'active' THEN now() ELSE c.last_verified_at END,
                    probe_failures = 0,
                    next_probe_at = CASE WHEN $3::varchar = 'active' THEN NULL ELSE now() + make_interval(secs => $7::double precision / 1000) END
             FROM prev WHERE c.id = prev.id
             RETURNING c.id, c.workspace_id, c.integration, prev.status AS from_status
           ), ev AS (
             INSERT INTO connection_event (id, workspace_id, connection_id, from_status, to_status, reason)
             SELECT $6::uuid, upd.workspace_id, upd.id, upd.from_status, $3::varchar, $4::varchar FROM upd
             RETURNING id, workspace_id, connection_id, from_status, to_status, reason, created_at
           )
           SELECT ev.*, upd.integration FROM ev JOIN upd ON upd.id = ev.connection_id`,
    values: [request.connectionId, request.workspaceId, request.to, reason, request.from ?? null, uuidv7(), request.firstProbeInMs ?? 30_000],
  });
  const row = rows[0];
  if (!row) return null;
  const transition: ConnectionTransition = {
    eventId: row.id, workspaceId: row.workspace_id, connectionId: row.connection_id, integration: row.integration,
    from: row.from_status, to: row.to_status, reason: row.reason, changedAt: row.created_at,
  };
  return transition;
}

export interface ConnectionEventRow {
  readonly id: string;
  readonly from_status: ConnectionStatus;
  readonly to_status: ConnectionStatus;
  readonly reason: string;
  readonly created_at: Date;
}

/** A connection's transitions, newest first, after the keyset cursor (created_at, id) when given. */
export async function listConnectionEvents(pool: pg.Pool, workspaceId: string, connectionId: string, options: { limit: number; before?: { createdAt: Date; id: string } | undefined }): Promise<ConnectionEventRow[]> {
  const { rows } = await pool.query<ConnectionEventRow>({
    name: options.before ? "connection-events-page" : "connection-events-first",
    text: `SELECT id, from_status, to_status, reason, created_at FROM connection_event
           WHERE workspace_id = $1 AND connection_id = $2 ${options.before ? "AND (created_at, id) < ($4, $5::uuid)" : ""}
           ORDER BY created_at DESC, id DESC LIMIT $3`,
    values: options.before ? [workspaceId, connectionId, options.limit, options.before.createdAt, options.before.id] : [workspaceId, connectionId, options.limit],
  });
  return rows;
}
