import type pg from "pg";
import { CONNECTION_STATUS_CHANGED_TRIGGER, connectionStatusChangedPayload, type ConnectionStatus, type ConnectionTransition } from "@nagent/db";
import { emitEvents, type FilterMatcher, type NewEvent } from "./emit";
import type { DeliveryProducer } from "./producer";
import type { DeliveryLogger } from "./deliver";

/**
 * NAGENT_CONNECTION_STATUS_CHANGED: every connection status transition (a `connection_event` row, written by
 * `recordConnectionTransition`) is published as this platform trigger's event, keyed by the transition's id.
 *
 * Two paths emit it, and the event's dedup key makes them one event:
 * - right after the transition (the process's `onTransition` callback: API and worker), so subscribers hear at once;
 * - a catch-up round in the trigger maintenance job, for transitions of the last 24 h without their event (the
 *   process died, or PostgreSQL/Redis failed, between the transition's commit and the emission).
 */
const DEDUP_PREFIX = "nagent:connection_event:";
export const connectionEventDedupKey = (connectionEventId: string) => `${DEDUP_PREFIX}${connectionEventId}`;

/** The event of a transition, as `emitEvents` takes it. */
export function connectionStatusEvent(t: ConnectionTransition): NewEvent {
  return {
    workspaceId: t.workspaceId,
    trigger: CONNECTION_STATUS_CHANGED_TRIGGER,
    data: connectionStatusChangedPayload(t),
    dedupKey: connectionEventDedupKey(t.eventId),
    connectionId: t.connectionId,
    source: "platform",
  };
}

export interface ConnectionStatusEmitterDeps {
  readonly pool: pg.Pool;
  readonly matcher: FilterMatcher;
  readonly producer: DeliveryProducer;
  readonly logger: DeliveryLogger;
  /** Called per event stored (metrics). */
  readonly onEvent?: (trigger: string, source: string) => void;
}

/** Emits events of transitions and enqueues their deliveries (after the commit). Returns how many events were new. */
async function emitTransitions(deps: ConnectionStatusEmitterDeps, transitions: readonly ConnectionTransition[]): Promise<number> {
  const emitted = await emitEvents(deps.pool, deps.matcher, transitions.map(connectionStatusEvent));
  const jobs = emitted.flatMap((e) => e.deliveries.map((d) => ({ deliveryId: d.deliveryId, workspaceId: d.workspaceId, attempt: 1 })));
  const created = emitted.filter((e) => e.created).length;
  for (let i = 0; i < created; i++) deps.onEvent?.(CONNECTION_STATUS_CHANGED_TRIGGER, "platform");
  // The deliveries are committed: a failed enqueue is picked up by the delivery sweeper.
  await deps.producer.enqueue(jobs).catch((error: Error) => deps.logger.warn({ err: { message: error.message } }, "could not enqueue deliveries; the sweeper will"));
  return created;
}

/**
 * The `onTransition` callback of a process (compose it next to the metrics one): emits the transition's event and
 * enqueues its deliveries. Never throws and never delays its caller: a failure is logged, and the catch-up round
 * emits the event later.
 */
export function createConnectionStatusEmitter(deps: ConnectionStatusEmitterDeps) {
  const inFlight = new Set<Promise<void>>();
  const emit = (t: ConnectionTransition): Promise<void> => {
    const p = emitTransitions(deps, [t]).then(
      () => undefined,
      (error: Error) => deps.logger.warn({ connectionEventId: t.eventId, err: { message: error.message } }, "could not emit NAGENT_CONNECTION_STATUS_CHANGED; the catch-up round will"),
    ).finally(() => inFlight.delete(p));
    inFlight.add(p);
    return p;
  };
  return Object.assign(emit, {
    /** Waits for the emissions started so far (a graceful shutdown, before the pool closes). */
    async drain(): Promise<void> {
      await Promise.allSettled([...inFlight]);
    },
  });
}

export type ConnectionStatusEmitter = ReturnType<typeof createConnectionStatusEmitter>;

export interface ConnectionStatusCatchUpOptions {
  /** Transitions older than this are left alone (default 24 h). */
  readonly windowMs?: number;
  /** Transitions younger than this are left to the emitter of the process that made them (default 10 s). */
  readonly graceMs?: number;
  /** At most this many events per round (default 200); the rest waits for the next round. */
  readonly batch?: number;
  /** Every this many rounds (and at the first), the whole window is checked; the others check only what is new (default 20). */
  readonly fullScanEvery?: number;
}

/** An incremental round re-checks this much before the last round's bound (transitions that committed late). */
const INCREMENTAL_OVERLAP_MS = 60_000;

/**
 * One catch-up round: the transitions of the window whose event is missing (no trigger_event with their dedup key in
 * their workspace), oldest first, are emitted now. Racing the emitter is harmless: the unique (workspace_id,
 * dedup_key) index stores one event. The scan walks connection_event (created_at, id) and probes the trigger_event
 * unique index per row, so it costs the window's transitions: only every `fullScanEvery` rounds is the whole window
 * checked; in between, a round checks what came after the bound up to which the previous round found nothing missing
 * (minus a minute of overlap for a transition whose statement committed late). The bound is this process's memory:
 * a restart begins with a full round.
 */
export function createConnectionStatusCatchUp(deps: ConnectionStatusEmitterDeps & { readonly options?: ConnectionStatusCatchUpOptions }) {
  const windowMs = deps.options?.windowMs ?? 24 * 3600_000;
  const graceMs = deps.options?.graceMs ?? 10_000;
  const batch = deps.options?.batch ?? 200;
  const fullScanEvery = Math.max(1, deps.options?.fullScanEvery ?? 20);
  /** Every transition created at or before it had its event when a round ended (null: not known yet). */
  let checkedUpTo: Date | null = null;
  let sinceFull = 0;
  return async function catchUpConnectionEvents(): Promise<{ emitted: number; found: number; full: boolean }> {
    const full = checkedUpTo === null || ++sinceFull >= fullScanEvery;
    if (full) sinceFull = 0;
    const since = full ? null : new Date(checkedUpTo!.getTime() - INCREMENTAL_OVERLAP_MS);
    const { rows: [bound] } = await deps.pool.query<{ upto: Date }>({
      name: "connection-events-catch-up-bound",
      text: "SELECT now() - make_interval(secs => $1::double precision / 1000) AS upto",
      values: [graceMs],
    });
    const upto = bound!.upto;
    const { rows } = await deps.pool.query<{ id: string; workspace_id: string; connection_id: string; integration: string; from_status: ConnectionStatus; to_status: ConnectionStatus; reason: string; created_at: Date }>({
      name: "connection-events-without-trigger-event",
      text: `SELECT ce.id, ce.workspace_id, ce.connection_id, c.integration, ce.from_status, ce.to_status, ce.reason, ce.created_at
               FROM connection_event ce
               JOIN connection c ON c.id = ce.connection_id AND c.workspace_id = ce.workspace_id
              WHERE ce.created_at > GREATEST(now() - make_interval(secs => $1::double precision / 1000), COALESCE($5::timestamptz, '-infinity'))
                AND ce.created_at <= $2::timestamptz
                AND NOT EXISTS (SELECT 1 FROM trigger_event te
                                 WHERE te.workspace_id = ce.workspace_id AND te.dedup_key = $4::text || ce.id::text)
              ORDER BY ce.created_at, ce.id
              LIMIT $3`,
      values: [windowMs, upto, batch, DEDUP_PREFIX, since],
    });
    let emitted = 0;
    if (rows.length > 0) {
      const transitions: ConnectionTransition[] = rows.map((r) => ({
        eventId: r.id, workspaceId: r.workspace_id, connectionId: r.connection_id, integration: r.integration,
        from: r.from_status, to: r.to_status, reason: r.reason, changedAt: r.created_at,
      }));
      emitted = await emitTransitions(deps, transitions);
    }
    // A full batch may have left some: the bound stays where it was (a first round stays full) until a round is not full.
    if (rows.length < batch) checkedUpTo = upto;
    return { emitted, found: rows.length, full };
  };
}
