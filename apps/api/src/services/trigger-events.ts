import type pg from "pg";
import { AppError, notFound } from "@nagent/errors";
import type { DeliveryProducer } from "@nagent/triggers";

export interface EventQuery {
  readonly trigger?: string | undefined;
  readonly subscription_id?: string | undefined;
  /** Events with at least one delivery in this status. */
  readonly status?: "pending" | "succeeded" | "failed" | undefined;
  readonly created_after?: string | undefined;
  readonly created_before?: string | undefined;
  readonly limit?: number | undefined;
  readonly cursor?: string | undefined;
}

interface EventRow { id: string; trigger: string; connection_id: string | null; source: string; data: unknown; created_at: Date }
interface DeliveryRow {
  id: string; subscription_id: string; status: "pending" | "succeeded" | "failed"; attempts_count: number; next_attempt_at: Date | null; last_attempt_at: Date | null;
  succeeded_at: Date | null; created_at: Date;
}
interface AttemptRow {
  delivery_id: string; number: number; started_at: Date; finished_at: Date; outcome: string; response_status: number | null;
  latency_ms: number; response_excerpt: string | null; error: string | null;
}

const iso = (d: Date | null) => d?.toISOString() ?? null;
const eventView = (r: EventRow) => ({ id: r.id, trigger: r.trigger, connection_id: r.connection_id, source: r.source, data: r.data, created_at: r.created_at.toISOString() });

function decodeCursor(cursor: string): { at: string; id: string } {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as { at?: unknown; id?: unknown };
    if (typeof parsed.at === "string" && typeof parsed.id === "string" && !Number.isNaN(Date.parse(parsed.at)) && /^[0-9a-f-]{36}$/.test(parsed.id)) return { at: parsed.at, id: parsed.id };
  } catch {
    // answered below
  }
  throw new AppError("VALIDATION_FAILED", "cursor is not a next_cursor this API returned.", { details: [{ in: "query", path: "/cursor", message: "is not a valid cursor", keyword: "format" }] });
}

/** The event log of a workspace: events newest first, each with its deliveries and their attempts; redelivery. */
export function createTriggerEventService(deps: { pool: pg.Pool; producer: DeliveryProducer; logger: { warn(o: object, m: string): void } }) {
  const { pool } = deps;
  return {
    async list(workspaceId: string, q: EventQuery) {
      const limit = q.limit ?? 50;
      const after = q.cursor ? decodeCursor(q.cursor) : null;
      const { rows } = await pool.query<EventRow>(
        `SELECT e.id, e.trigger, e.connection_id, e.source, e.data, e.created_at FROM trigger_event e
          WHERE e.workspace_id = $1
            AND ($2::text IS NULL OR e.trigger = $2)
            AND ($3::timestamptz IS NULL OR e.created_at >= $3) AND ($4::timestamptz IS NULL OR e.created_at < $4)
            AND ($5::uuid IS NULL AND $6::text IS NULL OR EXISTS (SELECT 1 FROM trigger_delivery d WHERE d.event_id = e.id AND d.workspace_id = $1
                  AND ($5::uuid IS NULL OR d.subscription_id = $5) AND ($6::text IS NULL OR d.status = $6)))
            AND ($7::timestamptz IS NULL OR (e.created_at, e.id) < ($7, $8::uuid))
          ORDER BY e.created_at DESC, e.id DESC LIMIT $9`,
        [workspaceId, q.trigger ?? null, q.created_after ?? null, q.created_before ?? null, q.subscription_id ?? null, q.status ?? null, after?.at ?? null, after?.id ?? null, limit + 1]);
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      const next = rows.length > limit && last ? Buffer.from(JSON.stringify({ at: last.created_at.toISOString(), id: last.id })).toString("base64url") : null;
      return { events: page.map(eventView), next_cursor: next };
    },

    async get(workspaceId: string, id: string) {
      const { rows: [event] } = await pool.query<EventRow>(`SELECT id, trigger, connection_id, source, data, created_at FROM trigger_event WHERE workspace_id = $1 AND id = $2`, [workspaceId, id]);
      if (!event) throw notFound("Event");
      const { rows: deliveries } = await pool.query<DeliveryRow>(
        `SELECT id, subscription_id, status, attempts_count, next_attempt_at, last_attempt_at, succeeded_at, created_at FROM trigger_delivery
          WHERE workspace_id = $1 AND event_id = $2 ORDER BY created_at, id`, [workspaceId, id]);
      const { rows: attempts } = await pool.query<AttemptRow>(
        `SELECT a.* FROM trigger_delivery_attempt a JOIN trigger_delivery d ON d.id = a.delivery_id
          WHERE d.workspace_id = $1 AND d.event_id = $2 ORDER BY a.delivery_id, a.number DESC`, [workspaceId, id]);
      return {
        event: {
          ...eventView(event),
          deliveries: deliveries.map((d) => ({
            id: d.id, subscription_id: d.subscription_id, status: d.status, attempts_count: d.attempts_count,
            next_attempt_at: d.status === "pending" ? iso(d.next_attempt_at) : null, last_attempt_at: iso(d.last_attempt_at), succeeded_at: iso(d.succeeded_at),
            // The latest 50 attempts, newest first.
            attempts: attempts.filter((a) => a.delivery_id === d.id).slice(0, 50).map((a) => ({
              number: a.number, started_at: a.started_at.toISOString(), finished_at: a.finished_at.toISOString(), outcome: a.outcome,
              response_status: a.response_status, latency_ms: a.latency_ms, response_excerpt: a.response_excerpt, error: a.error,
            })),
          })),
        },
      };
    },

    /** Sends the event again to its subscriptions (or one): same delivery, same webhook-id, a fresh retry schedule. */
    async redeliver(workspaceId: string, id: string, subscriptionId: string | undefined): Promise<{ deliveries: number }> {
      const { rows: [event] } = await pool.query(`SELECT 1 FROM trigger_event WHERE workspace_id = $1 AND id = $2`, [workspaceId, id]);
      if (!event) throw notFound("Event");
      const { rows } = await pool.query<{ id: string; attempts_count: number }>(
        `UPDATE trigger_delivery SET status = 'pending', retry_index = 0, next_attempt_at = now()
          WHERE workspace_id = $1 AND event_id = $2 AND ($3::uuid IS NULL OR subscription_id = $3) RETURNING id, attempts_count`,
        [workspaceId, id, subscriptionId ?? null]);
      if (subscriptionId !== undefined && rows.length === 0) throw notFound("Delivery of this event to that subscription");
      for (const d of rows) {
        await deps.producer.sendNow({ deliveryId: d.id, workspaceId, attempt: d.attempts_count + 1 })
          .catch((error: Error) => deps.logger.warn({ deliveryId: d.id, err: { message: error.message } }, "could not enqueue a redelivery; the sweeper will"));
      }
      return { deliveries: rows.length };
    },
  };
}

export type TriggerEventService = ReturnType<typeof createTriggerEventService>;
