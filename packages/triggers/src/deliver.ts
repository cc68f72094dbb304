import type pg from "pg";
import { Agent, request } from "undici";
import { checkOutboundUrl, createEgressLookup, type EgressPolicy } from "@nagent/runner";
import type { TriggerDeliveryJobData } from "@nagent/queue";
import { statusIn } from "@nagent/db";
import { isVaultError, type Vault } from "@nagent/vault";
import { nextRetryDelay, parseRetryAfterMs } from "./schedule";
import { signMessage } from "./sign";
import { openSubscriptionSecret } from "./secrets";
import type { DeliveryProducer } from "./producer";
import { emitEventsInTransaction, type FilterMatcher, type NewEvent } from "./emit";

/** The platform trigger emitted when a subscription is disabled (410 Gone, or failing past `disableAfterMs`). */
export const SUBSCRIPTION_DISABLED_TRIGGER = "NAGENT_SUBSCRIPTION_DISABLED";
export const subscriptionDisabledDedupKey = (subscriptionId: string, disabledAt: Date) =>
  `nagent:subscription:${subscriptionId}:disabled:${disabledAt.toISOString()}`;

/** The NAGENT_SUBSCRIPTION_DISABLED event of a disable (never the subscription's secret). */
export function subscriptionDisabledEvent(d: { workspaceId: string; subscriptionId: string; trigger: string; targetUrl: string; reason: string; disabledAt: Date }): NewEvent {
  return {
    workspaceId: d.workspaceId,
    trigger: SUBSCRIPTION_DISABLED_TRIGGER,
    data: { subscription_id: d.subscriptionId, trigger: d.trigger, target_url: d.targetUrl, reason: d.reason, disabled_at: d.disabledAt.toISOString() },
    dedupKey: subscriptionDisabledDedupKey(d.subscriptionId, d.disabledAt),
    source: "platform",
  };
}

// The two statements that change one pending delivery, found by id, check its status after the primary-key read
// (`statusIn`, @nagent/db): planned on a quiet table's statistics, a plain `status = 'pending'` read every pending
// delivery through the (status, next_attempt_at) index.

/** Holds a delivery of a paused or disabled subscription (its attempt not counted). $1 id, $2 attempts so far. */
export const HOLD_DELIVERY = `UPDATE trigger_delivery SET next_attempt_at = NULL WHERE id = $1 AND attempts_count = $2 AND ${statusIn("status", "pending")}`;
/**
 * Records an attempt on its delivery, guarded by the attempt number. $1 id, $2 attempt, $3 new status, $4 retry step
 * (0 or 1), $5 when it ended, $6 next attempt (or null).
 */
export const RECORD_DELIVERY_ATTEMPT =
  `UPDATE trigger_delivery SET status = $3::varchar, attempts_count = $2::int, retry_index = retry_index + $4::int, last_attempt_at = $5::timestamptz,
          next_attempt_at = $6::timestamptz, succeeded_at = CASE WHEN $3::varchar = 'succeeded' THEN $5::timestamptz ELSE succeeded_at END
    WHERE id = $1 AND attempts_count = $2::int - 1 AND ${statusIn("status", "pending")}`;

/** The answer's first bytes kept on an attempt. */
export const RESPONSE_EXCERPT_BYTES = 1024;

export interface DeliveryLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface DeliverDeps {
  readonly pool: pg.Pool;
  readonly vault: Vault;
  readonly producer: DeliveryProducer;
  readonly egress: EgressPolicy;
  readonly logger: DeliveryLogger;
  /** Time a receiver has to answer (connect + headers + body). */
  readonly timeoutMs: number;
  /** Delays between attempts (DELIVERY_RETRY_DELAYS_MS); tests shorten it. */
  readonly schedule: readonly number[];
  /** A subscription whose deliveries keep failing this long without a success is disabled (default 3 days). */
  readonly disableAfterMs: number;
  /** Called once per attempt (metrics): its outcome and, for a success, the lag from the event's creation. */
  readonly onAttempt?: (outcome: AttemptOutcome, lagMs: number | null) => void;
  /** Matches the NAGENT_SUBSCRIPTION_DISABLED event to its subscribers' filters (the registry). */
  readonly matcher: FilterMatcher;
  /** Called per event stored (metrics): the NAGENT_SUBSCRIPTION_DISABLED events. */
  readonly onEvent?: (trigger: string, source: string) => void;
}

export type AttemptOutcome = "succeeded" | "failed" | "gone" | "error";

interface DeliveryRow {
  id: string;
  workspace_id: string;
  status: string;
  attempts_count: number;
  retry_index: number;
  subscription_id: string;
  event_id: string;
  trigger: string;
  data: unknown;
  event_created_at: Date;
  target_url: string;
  sub_status: string;
  secret_ciphertext: Buffer;
  previous_secret_ciphertext: Buffer | null;
  previous_secret_expires_at: Date | null;
  failing_since: Date | null;
}

/** The body a subscriber receives: `{type, timestamp, id, workspace_id, data}` (the event's own id and time). */
export function deliveryBody(row: { trigger: string; event_id: string; workspace_id: string; data: unknown; event_created_at: Date }): string {
  return JSON.stringify({ type: row.trigger, timestamp: row.event_created_at.toISOString(), id: row.event_id, workspace_id: row.workspace_id, data: row.data });
}

/**
 * The delivery processor: one attempt of one delivery per job. Sends the event signed (Standard Webhooks; the
 * delivery id is `webhook-id`), records the attempt, and on failure schedules the next attempt as a delayed job
 * (after the record is committed), honouring Retry-After; 410 Gone stops and disables the subscription, as does a
 * subscription failing past `disableAfterMs`. A worker killed mid-send leaves its job stalled; BullMQ gives it to
 * another worker, which sends the same delivery (same `webhook-id`) again: at least once.
 */
export function createDeliveryProcessor(deps: DeliverDeps) {
  const agent = new Agent({
    connect: { timeout: Math.min(10_000, deps.timeoutMs), lookup: createEgressLookup(deps.egress) },
    headersTimeout: deps.timeoutMs,
    bodyTimeout: deps.timeoutMs,
    keepAliveTimeout: 4_000,
  });

  async function load(job: TriggerDeliveryJobData): Promise<DeliveryRow | undefined> {
    const { rows } = await deps.pool.query<DeliveryRow>(
      `SELECT d.id, d.workspace_id, d.status, d.attempts_count, d.retry_index, d.subscription_id, d.event_id,
              e.trigger, e.data, e.created_at AS event_created_at,
              s.target_url, s.status AS sub_status, s.secret_ciphertext, s.previous_secret_ciphertext, s.previous_secret_expires_at, s.failing_since
         FROM trigger_delivery d
         JOIN trigger_event e ON e.id = d.event_id
         JOIN trigger_subscription s ON s.id = d.subscription_id
        WHERE d.id = $1 AND d.workspace_id = $2`,
      [job.deliveryId, job.workspaceId]);
    return rows[0];
  }

  async function send(row: DeliveryRow, secrets: string[]): Promise<{ outcome: AttemptOutcome; status: number | null; excerpt: string | null; error: string | null; retryAfterMs: number | null }> {
    const check = checkOutboundUrl(row.target_url, deps.egress);
    if (!check.ok) return { outcome: "error", status: null, excerpt: null, error: `egress policy: ${check.reason}`.slice(0, 1000), retryAfterMs: null };
    const body = deliveryBody(row);
    const headers = { "content-type": "application/json", "user-agent": "Nagent-Webhooks/1", ...signMessage(secrets, row.id, new Date(), body) };
    try {
      const res = await request(check.url, { method: "POST", headers, body, dispatcher: agent, signal: AbortSignal.timeout(deps.timeoutMs) });
      const excerpt = await readExcerpt(res.body);
      const status = res.statusCode;
      const outcome: AttemptOutcome = status >= 200 && status < 300 ? "succeeded" : status === 410 ? "gone" : "failed";
      return { outcome, status, excerpt, error: null, retryAfterMs: outcome === "failed" ? parseRetryAfterMs(res.headers["retry-after"]) : null };
    } catch (error) {
      const e = error as Error & { code?: string };
      return { outcome: "error", status: null, excerpt: null, error: `${e.code ?? e.name}: ${e.message}`.slice(0, 1000), retryAfterMs: null };
    }
  }

  return async function processDelivery(job: TriggerDeliveryJobData): Promise<{ outcome: AttemptOutcome | "skipped" }> {
    const row = await load(job);
    // A stale job (the delivery moved on, was redelivered, or is gone) ends quietly.
    if (!row || row.status !== "pending" || row.attempts_count + 1 !== job.attempt) return { outcome: "skipped" };
    if (row.sub_status !== "active") {
      // Held while the subscription is paused or disabled; resuming it sends what waits.
      await deps.pool.query(HOLD_DELIVERY, [row.id, row.attempts_count]);
      return { outcome: "skipped" };
    }
    const now = new Date();
    const secrets: string[] = [];
    let unreadable: string | null = null;
    try {
      secrets.push(await openSubscriptionSecret(deps.vault, row.workspace_id, row.subscription_id, row.secret_ciphertext, async () => {
        const { rows } = await deps.pool.query<{ secret_ciphertext: Buffer }>(
          `SELECT secret_ciphertext FROM trigger_subscription WHERE id = $1 AND workspace_id = $2`, [row.subscription_id, row.workspace_id]);
        return rows[0]?.secret_ciphertext ?? row.secret_ciphertext;
      }));
      if (row.previous_secret_ciphertext && row.previous_secret_expires_at && row.previous_secret_expires_at > now) {
        // An old secret that no longer opens (rotated because of that) just stops signing.
        const previous = await openSubscriptionSecret(deps.vault, row.workspace_id, row.subscription_id, row.previous_secret_ciphertext).catch((e: unknown) => {
          if (isVaultError(e)) return null;
          throw e;
        });
        if (previous !== null) secrets.push(previous);
      }
    } catch (error) {
      if (!isVaultError(error)) throw error;
      // Nothing is sent unsigned: the attempt fails (and is retried on the schedule) until the secret is rotated. (A
      // workspace data-key rotation re-seals the secret; an envelope it retired meanwhile is read again above.)
      unreadable = `The signing secret cannot be opened (${error.code}); rotate it (POST /v1/trigger-subscriptions/:id/rotate-secret).`;
    }
    const started = Date.now();
    const result = unreadable === null ? await send(row, secrets) : { outcome: "error" as const, status: null, excerpt: null, error: unreadable, retryAfterMs: null };
    const finished = Date.now();
    const latencyMs = finished - started;

    let delayMs: number | null = null;
    let disableReason: string | null = null;
    if (result.outcome === "gone") {
      disableReason = "The target answered 410 Gone: deliveries stopped.";
    } else if (result.outcome !== "succeeded") {
      delayMs = nextRetryDelay(deps.schedule, row.retry_index, result.retryAfterMs);
      const failingSince = row.failing_since ?? now;
      if (delayMs === null && now.getTime() - failingSince.getTime() >= deps.disableAfterMs) {
        disableReason = `Deliveries failed for ${Math.round((now.getTime() - failingSince.getTime()) / 3600_000)} h without a success (last: ${result.status ?? result.error ?? "error"}).`.slice(0, 1000);
      }
    }
    const deliveryStatus = result.outcome === "succeeded" ? "succeeded" : delayMs === null ? "failed" : "pending";

    const client = await deps.pool.connect();
    let recorded = false;
    let disabledEvent: { deliveries: readonly { deliveryId: string; workspaceId: string }[]; created: boolean } | null = null;
    try {
      await client.query("BEGIN");
      // The subscription's row first, as DELETE (which cascades to the deliveries) takes them: no deadlock. KEY SHARE:
      // deliveries to one subscription do not queue behind each other's commits.
      await client.query(`SELECT 1 FROM trigger_subscription WHERE id = $1 FOR KEY SHARE`, [row.subscription_id]);
      const updated = await client.query(RECORD_DELIVERY_ATTEMPT,
        [row.id, job.attempt, deliveryStatus, result.outcome === "succeeded" ? 0 : 1, new Date(finished), delayMs === null ? null : new Date(finished + delayMs)]);
      if (updated.rowCount === 1) {
        recorded = true;
        await client.query(
          `INSERT INTO trigger_delivery_attempt (delivery_id, number, started_at, finished_at, outcome, response_status, latency_ms, response_excerpt, error)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING`,
          [row.id, job.attempt, new Date(started), new Date(finished), result.outcome, result.status, latencyMs, result.excerpt, result.error]);
        // Written only when it changes something (last_success_at to within 10 s): a busy subscription's row is not
        // rewritten, and its deliveries not serialised on it, at every success.
        if (result.outcome === "succeeded") {
          await client.query(
            `UPDATE trigger_subscription SET last_success_at = $2, failing_since = NULL
              WHERE id = $1 AND (failing_since IS NOT NULL OR last_success_at IS NULL OR last_success_at < $2::timestamptz - interval '10 seconds')`,
            [row.subscription_id, new Date(finished)]);
        } else {
          await client.query(`UPDATE trigger_subscription SET failing_since = $2 WHERE id = $1 AND failing_since IS NULL`, [row.subscription_id, now]);
        }
        if (disableReason) {
          const disabled = await client.query<{ trigger: string; target_url: string; updated_at: Date }>(
            `UPDATE trigger_subscription SET status = 'disabled', disabled_reason = $2, updated_at = now()
              WHERE id = $1 AND workspace_id = $3 AND status = 'active' RETURNING trigger, target_url, updated_at`,
            [row.subscription_id, disableReason, row.workspace_id]);
          // Only the delivery that disabled it emits (a concurrent one, or a paused subscription, changes no row). In
          // this transaction: the disable and its event commit together. The subscription is disabled by now, so if it
          // listens to NAGENT_SUBSCRIPTION_DISABLED itself its delivery is written held (no attempt), like any other.
          const d = disabled.rows[0];
          if (disabled.rowCount === 1 && d) {
            const [emitted] = await emitEventsInTransaction(client, deps.matcher, [subscriptionDisabledEvent({
              workspaceId: row.workspace_id, subscriptionId: row.subscription_id, trigger: d.trigger, targetUrl: d.target_url, reason: disableReason, disabledAt: d.updated_at,
            })]);
            disabledEvent = emitted ?? null;
          }
        }
      }
      await client.query("COMMIT");
    } catch (error) {
      await client.query("ROLLBACK").catch(() => {});
      throw error;
    } finally {
      client.release();
    }
    if (!recorded) return { outcome: "skipped" };
    deps.onAttempt?.(result.outcome, result.outcome === "succeeded" ? finished - row.event_created_at.getTime() : null);
    if (disableReason) deps.logger.warn({ subscriptionId: row.subscription_id, workspaceId: row.workspace_id, reason: disableReason }, "trigger subscription disabled");
    if (disabledEvent) {
      if (disabledEvent.created) deps.onEvent?.(SUBSCRIPTION_DISABLED_TRIGGER, "platform");
      // After commit: lost, the sweeper enqueues them (their next_attempt_at is set).
      await deps.producer.enqueue(disabledEvent.deliveries.map((x) => ({ deliveryId: x.deliveryId, workspaceId: x.workspaceId, attempt: 1 })))
        .catch((error: Error) => deps.logger.warn({ err: { message: error.message } }, "could not enqueue deliveries; the sweeper will"));
    }
    if (delayMs !== null && deliveryStatus === "pending") {
      // After commit: lost, the sweeper re-enqueues it once next_attempt_at has passed.
      await deps.producer.enqueue([{ deliveryId: row.id, workspaceId: row.workspace_id, attempt: job.attempt + 1 }], delayMs)
        .catch((error: Error) => deps.logger.warn({ deliveryId: row.id, err: { message: error.message } }, "could not enqueue a delivery retry; the sweeper will"));
    }
    return { outcome: result.outcome };
  };
}

async function readExcerpt(body: AsyncIterable<Buffer> & { destroy?: () => void }): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    if (size < RESPONSE_EXCERPT_BYTES) chunks.push(chunk);
    size += chunk.length;
    if (size >= 64 * 1024) break; // enough read; the rest is dropped with the connection
  }
  if (size === 0) return null;
  // Valid UTF-8 only (a cut multi-byte character is dropped), no NUL (PostgreSQL text refuses it).
  return Buffer.concat(chunks).subarray(0, RESPONSE_EXCERPT_BYTES).toString("utf8").replace(/\uFFFD+$/, "").replace(/\0/g, "");
}
