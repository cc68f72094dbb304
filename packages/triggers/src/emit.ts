import type pg from "pg";
import { uuidv7 } from "@nagent/db";

/** What emitting needs from the registry: whether a subscription's filter matches an event's data. */
export interface FilterMatcher {
  matchTriggerFilter(slug: string, filter: Record<string, unknown>, data: unknown): boolean;
}

export interface NewEvent {
  readonly workspaceId: string;
  /** The trigger's slug, e.g. SCALE_AI_TASK_COMPLETED or NAGENT_CONNECTION_STATUS_CHANGED. */
  readonly trigger: string;
  readonly data: Record<string, unknown>;
  /** Unique per workspace: a second event with the same key is a duplicate and stores nothing. */
  readonly dedupKey: string;
  readonly connectionId?: string | null;
  /** Where it came from: callback, poll, test or platform. */
  readonly source: "callback" | "poll" | "test" | "platform";
  /** Deliver to this subscription only (a test event), whatever its trigger, filter and status. */
  readonly onlySubscriptionId?: string;
}

export interface EmittedEvent {
  readonly eventId: string | null;
  /** False when an event with the same key already existed (nothing was stored). */
  readonly created: boolean;
  /** The deliveries written with it; enqueue them (attempt 1) once this call returned, i.e. after commit. */
  readonly deliveries: readonly { readonly deliveryId: string; readonly workspaceId: string }[];
}

/**
 * Stores events and one delivery per matching subscription (held while it is paused or disabled), all in one transaction, before the caller
 * acknowledges anything (an inbound callback's 2xx). Duplicates (same workspace and dedup key) are skipped through
 * the unique index, so concurrent retries of one callback store one event. No I/O but PostgreSQL inside.
 *
 * The one entry point for every event source: inbound callbacks and polling (API and worker) and platform events.
 * Platform events (e.g. NAGENT_CONNECTION_STATUS_CHANGED from the connection-health transitions) call it with
 * `source: "platform"` and a key such as `nagent:connection:<id>:status:<changed_at>`, then enqueue the deliveries.
 */
export async function emitEvents(pool: pg.Pool, matcher: FilterMatcher, events: readonly NewEvent[]): Promise<EmittedEvent[]> {
  if (events.length === 0) return [];
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    const out: EmittedEvent[] = [];
    for (const event of events) out.push(await emitOne(client, matcher, event));
    await client.query("COMMIT");
    return out;
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

/**
 * `emitEvents` inside the caller's open transaction (on its client): the events commit, or roll back, with what the
 * caller writes. The caller enqueues the returned deliveries after its COMMIT.
 */
export async function emitEventsInTransaction(client: pg.PoolClient, matcher: FilterMatcher, events: readonly NewEvent[]): Promise<EmittedEvent[]> {
  const out: EmittedEvent[] = [];
  for (const event of events) out.push(await emitOne(client, matcher, event));
  return out;
}

/** One event: see `emitEvents`. */
export async function emitEvent(pool: pg.Pool, matcher: FilterMatcher, event: NewEvent): Promise<EmittedEvent> {
  const [emitted] = await emitEvents(pool, matcher, [event]);
  return emitted!;
}

async function emitOne(client: pg.PoolClient, matcher: FilterMatcher, event: NewEvent): Promise<EmittedEvent> {
  const id = uuidv7();
  const inserted = await client.query<{ id: string }>(
    `INSERT INTO trigger_event (id, workspace_id, trigger, connection_id, dedup_key, source, data)
     VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (workspace_id, dedup_key) DO NOTHING RETURNING id`,
    [id, event.workspaceId, event.trigger, event.connectionId ?? null, event.dedupKey.slice(0, 512), event.source, JSON.stringify(event.data)],
  );
  if (inserted.rowCount === 0) return { eventId: null, created: false, deliveries: [] };
  const subs = event.onlySubscriptionId
    ? await client.query<{ id: string; filter: Record<string, unknown>; status: string }>(
      `SELECT id, '{}'::jsonb AS filter, status FROM trigger_subscription WHERE workspace_id = $1 AND id = $2 FOR KEY SHARE`, [event.workspaceId, event.onlySubscriptionId])
    : await client.query<{ id: string; filter: Record<string, unknown>; status: string }>(
      `SELECT id, filter, status FROM trigger_subscription
        WHERE workspace_id = $1 AND trigger = $2 AND (connection_id IS NULL OR connection_id = $3)
        FOR KEY SHARE`,
      [event.workspaceId, event.trigger, event.connectionId ?? null]);
  const matching = subs.rows.filter((s) => event.onlySubscriptionId !== undefined || Object.keys(s.filter ?? {}).length === 0 || matcher.matchTriggerFilter(event.trigger, s.filter, event.data));
  // A paused or disabled subscription's deliveries are written too, held (no next attempt): resuming sends them.
  const deliveries = matching.map((s) => ({ deliveryId: uuidv7(), workspaceId: event.workspaceId, subscriptionId: s.id, active: s.status === "active" }));
  if (deliveries.length > 0) {
    await client.query(
      `INSERT INTO trigger_delivery (id, workspace_id, event_id, subscription_id, status, next_attempt_at)
       SELECT d, $2, $3, s, 'pending', CASE WHEN a THEN now() END FROM unnest($1::uuid[], $4::uuid[], $5::bool[]) AS t(d, s, a)`,
      [deliveries.map((d) => d.deliveryId), event.workspaceId, id, deliveries.map((d) => d.subscriptionId), deliveries.map((d) => d.active)],
    );
  }
  return { eventId: id, created: true, deliveries: deliveries.filter((d) => d.active).map(({ deliveryId, workspaceId }) => ({ deliveryId, workspaceId })) };
}
