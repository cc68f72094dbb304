import { readConnectionCiphertext } from "@nagent/db";
import type pg from "pg";
import type { Runner, ExecuteCall } from "@nagent/runner";
import { CONNECTION_CREDENTIALS, type Vault } from "@nagent/vault";
import { emitEvents, type FilterMatcher, type NewEvent } from "./emit";
import { eventsOfTask } from "./scale-events";
import type { DeliveryProducer } from "./producer";
import type { DeliveryLogger } from "./deliver";

export const LIST_TASKS_ACTION = "SCALE_AI_LIST_TASKS";
/** Pages of 100 tasks read per connection and poll; what is left is read by the next poll (the cursor moved less). */
const MAX_PAGES = 10;
/** The cursor is re-read with this overlap (clock skew, equal timestamps); the dedup keys make re-seen tasks free. */
const OVERLAP_MS = 5_000;

export interface PollDeps {
  readonly pool: pg.Pool;
  readonly vault: Vault;
  readonly runner: Pick<Runner, "execute">;
  readonly runSpec: (slug: string) => ExecuteCall["spec"] | undefined;
  readonly defaultBaseUrl: string;
  readonly matcher: FilterMatcher;
  readonly producer: DeliveryProducer;
  readonly logger: DeliveryLogger;
  /** Called per event stored (metrics). */
  readonly onEvent?: (trigger: string, source: string) => void;
}

interface PollRow { id: string; workspace_id: string; ciphertext: Buffer; base_url: string | null; poll_cursor: Date | null; created_at: Date }

/**
 * Polling fallback for a Scale account that cannot reach the platform: every connection with `events_mode = 'poll'`
 * lists the tasks updated since its cursor (LIST_TASKS, `updated_after`) and emits the same events, with the same
 * dedup keys, as callbacks would (`eventsOfTask`). The cursor moves only after the events are stored.
 */
export function createConnectionPoller(deps: PollDeps) {
  async function pollOne(row: PollRow): Promise<{ events: number }> {
    const spec = deps.runSpec(LIST_TASKS_ACTION);
    if (!spec) return { events: 0 };
    const plain = await deps.vault.openLatest(row.workspace_id, { connectionId: row.id, purpose: CONNECTION_CREDENTIALS }, row.ciphertext, () => readConnectionCiphertext(deps.pool, row.workspace_id, row.id));
    let credentials: Record<string, string>;
    try {
      credentials = JSON.parse(plain.toString("utf8")) as Record<string, string>;
    } finally {
      plain.fill(0);
    }
    const since = new Date((row.poll_cursor ?? row.created_at).getTime() - OVERLAP_MS);
    let cursor = row.poll_cursor ?? row.created_at;
    const events: NewEvent[] = [];
    let nextToken: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const input: Record<string, unknown> = { updated_after: since.toISOString(), limit: 100, ...(nextToken ? { next_token: nextToken } : {}) };
      const result = await deps.runner.execute({ spec, input, credentials, baseUrl: row.base_url ?? deps.defaultBaseUrl, mayHaveReachedUpstream: false });
      if (!result.ok) throw new Error(`listing tasks failed: ${result.error.code} ${result.error.message}`);
      const body = result.data as { docs?: unknown[]; next_token?: string | null; has_more?: boolean };
      for (const task of body.docs ?? []) {
        const updated = Date.parse(String((task as { updated_at?: unknown }).updated_at ?? ""));
        if (!Number.isNaN(updated) && updated > cursor.getTime()) cursor = new Date(updated);
        for (const e of eventsOfTask(task, null, "poll")) events.push({ ...e, workspaceId: row.workspace_id, connectionId: row.id, source: "poll" });
      }
      if (!body.has_more || !body.next_token) break;
      nextToken = body.next_token;
    }
    const emitted = await emitEvents(deps.pool, deps.matcher, events);
    emitted.forEach((e, i) => e.created && deps.onEvent?.(events[i]!.trigger, "poll"));
    await deps.pool.query(`UPDATE connection SET poll_cursor = $3 WHERE id = $1 AND workspace_id = $2`, [row.id, row.workspace_id, cursor]);
    const jobs = emitted.flatMap((e) => e.deliveries.map((d) => ({ ...d, attempt: 1 })));
    await deps.producer.enqueue(jobs).catch((error: Error) => deps.logger.warn({ err: { message: error.message } }, "could not enqueue deliveries; the sweeper will"));
    return { events: emitted.filter((e) => e.created).length };
  }

  return async function pollConnections(): Promise<{ connections: number; events: number; failed: number }> {
    const { rows } = await deps.pool.query<PollRow>(
      `SELECT id, workspace_id, ciphertext, base_url, poll_cursor, created_at FROM connection
        WHERE events_mode = 'poll' AND status = 'active' AND integration = 'scale_ai' ORDER BY poll_cursor NULLS FIRST LIMIT 200`);
    let events = 0;
    let failed = 0;
    for (const row of rows) {
      try {
        events += (await pollOne(row)).events;
      } catch (error) {
        failed++;
        deps.logger.warn({ connectionId: row.id, err: { message: (error as Error).message } }, "polling a connection failed");
      }
    }
    return { connections: rows.length, events, failed };
  };
}
