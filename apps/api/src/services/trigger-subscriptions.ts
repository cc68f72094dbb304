import type pg from "pg";
import { AppError, notFound } from "@nagent/errors";
import { uuidv7 } from "@nagent/db";
import type { Registry } from "@nagent/registry";
import { checkOutboundUrl, type EgressPolicy } from "@nagent/runner";
import type { Vault } from "@nagent/vault";
import { emitEvent, newSigningSecret, sealSubscriptionSecret, secretHint, type DeliveryProducer } from "@nagent/triggers";

/** Subscriptions a workspace holds at most. */
export const MAX_SUBSCRIPTIONS_PER_WORKSPACE = 200;
/** Default and longest grace period of a secret rotation (the old secret still signs meanwhile). */
export const DEFAULT_ROTATION_GRACE_S = 24 * 3600;
export const MAX_ROTATION_GRACE_S = 7 * 24 * 3600;

export interface SubscriptionView {
  id: string;
  trigger: string;
  connection_id: string | null;
  filter: Record<string, unknown>;
  target: { url: string };
  status: "active" | "paused" | "disabled";
  disabled_reason: string | null;
  secret_hint: string;
  previous_secret_expires_at: string | null;
  last_success_at: string | null;
  failing_since: string | null;
  created_at: string;
  updated_at: string;
}

interface Row {
  id: string; trigger: string; connection_id: string | null; filter: Record<string, unknown>; target_url: string; status: string;
  disabled_reason: string | null; secret_hint: string; previous_secret_expires_at: Date | null; last_success_at: Date | null;
  failing_since: Date | null; created_at: Date; updated_at: Date;
}

const COLUMNS = `id, trigger, connection_id, filter, target_url, status, disabled_reason, secret_hint, previous_secret_expires_at,
  last_success_at, failing_since, created_at, updated_at`;

const iso = (d: Date | null) => d?.toISOString() ?? null;
function toView(r: Row): SubscriptionView {
  return {
    id: r.id, trigger: r.trigger, connection_id: r.connection_id, filter: r.filter ?? {}, target: { url: r.target_url },
    status: r.status === "paused" ? "paused" : r.status === "disabled" ? "disabled" : "active",
    disabled_reason: r.disabled_reason, secret_hint: r.secret_hint,
    previous_secret_expires_at: r.previous_secret_expires_at && r.previous_secret_expires_at > new Date() ? r.previous_secret_expires_at.toISOString() : null,
    last_success_at: iso(r.last_success_at), failing_since: iso(r.failing_since),
    created_at: r.created_at.toISOString(), updated_at: r.updated_at.toISOString(),
  };
}

export interface CreateSubscription {
  readonly trigger: string;
  readonly connection_id?: string | undefined;
  readonly filter?: Record<string, unknown> | undefined;
  readonly target: { readonly url: string };
}

/**
 * Trigger subscriptions: a workspace asks for a trigger's events at a URL. The signing secret (`whsec_…`) is
 * generated here, sealed in the vault, and shown once (create and rotate); every query is scoped to the workspace.
 */
export function createTriggerSubscriptionService(deps: { pool: pg.Pool; registry: Registry; vault: Vault; egress: EgressPolicy; producer: DeliveryProducer; logger: { warn(o: object, m: string): void } }) {
  const { pool, registry } = deps;

  async function find(workspaceId: string, id: string): Promise<Row> {
    const { rows } = await pool.query<Row>(`SELECT ${COLUMNS} FROM trigger_subscription WHERE workspace_id = $1 AND id = $2`, [workspaceId, id]);
    if (!rows[0]) throw notFound("Subscription");
    return rows[0];
  }

  function checkTarget(url: string): string {
    const check = checkOutboundUrl(url, deps.egress);
    if (!check.ok) throw new AppError("VALIDATION_FAILED", `target.url ${check.reason}.`, { details: [{ in: "body", path: "/target/url", message: check.reason, keyword: "egress" }] });
    return check.url.toString();
  }

  /** Enqueues the pending deliveries of a subscription (after a resume), now. */
  async function sendWaiting(workspaceId: string, id: string): Promise<void> {
    const { rows } = await pool.query<{ id: string; attempts_count: number }>(
      `UPDATE trigger_delivery SET next_attempt_at = now() WHERE workspace_id = $1 AND subscription_id = $2 AND status = 'pending'
       RETURNING id, attempts_count`, [workspaceId, id]);
    for (const d of rows) {
      await deps.producer.sendNow({ deliveryId: d.id, workspaceId, attempt: d.attempts_count + 1 })
        .catch((error: Error) => deps.logger.warn({ deliveryId: d.id, err: { message: error.message } }, "could not enqueue a delivery; the sweeper will"));
    }
  }

  return {
    async create(workspaceId: string, input: CreateSubscription): Promise<{ subscription: SubscriptionView; secret: string }> {
      const trigger = registry.getTrigger(input.trigger);
      if (!trigger) throw new AppError("TRIGGER_NOT_FOUND", `Trigger ${input.trigger} not found (GET /v1/triggers lists them).`);
      const filter = input.filter ?? {};
      const valid = registry.validateTriggerFilter(input.trigger, filter);
      if (!valid.valid) {
        throw new AppError("VALIDATION_FAILED", `The filter does not fit ${input.trigger}: ${valid.errors[0]?.path ?? ""} ${valid.errors[0]?.message ?? "is invalid"}.`, {
          details: valid.errors.map((e) => ({ in: "body", path: `/filter${e.path.replace(/^\/?filter/, "")}`, message: e.message, keyword: e.keyword })),
        });
      }
      const targetUrl = checkTarget(input.target.url);
      if (input.connection_id !== undefined) {
        const { rows } = await pool.query<{ integration: string }>(`SELECT integration FROM connection WHERE workspace_id = $1 AND id = $2`, [workspaceId, input.connection_id]);
        if (!rows[0]) throw notFound("Connection");
        if (rows[0].integration !== trigger.integration) {
          throw new AppError("VALIDATION_FAILED", `The connection belongs to ${rows[0].integration}, not ${trigger.integration}.`, { details: [{ in: "body", path: "/connection_id", message: `must be a ${trigger.integration} connection`, keyword: "integration" }] });
        }
      }
      const { rows: [count] } = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM trigger_subscription WHERE workspace_id = $1`, [workspaceId]);
      if ((count?.n ?? 0) >= MAX_SUBSCRIPTIONS_PER_WORKSPACE) throw new AppError("CONFLICT", `A workspace holds at most ${MAX_SUBSCRIPTIONS_PER_WORKSPACE} subscriptions.`);
      const id = uuidv7();
      const secret = newSigningSecret();
      const sealed = await sealSubscriptionSecret(deps.vault, workspaceId, id, secret);
      const { rows } = await pool.query<Row>(
        `INSERT INTO trigger_subscription (id, workspace_id, trigger, connection_id, filter, target_url, secret_ciphertext, secret_hint)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ${COLUMNS}`,
        [id, workspaceId, input.trigger, input.connection_id ?? null, JSON.stringify(filter), targetUrl, sealed, secretHint(secret)]);
      return { subscription: toView(rows[0]!), secret };
    },

    async list(workspaceId: string, query: { trigger?: string | undefined; status?: string | undefined }): Promise<SubscriptionView[]> {
      const { rows } = await pool.query<Row>(
        `SELECT ${COLUMNS} FROM trigger_subscription WHERE workspace_id = $1 AND ($2::text IS NULL OR trigger = $2) AND ($3::text IS NULL OR status = $3)
         ORDER BY created_at DESC, id DESC LIMIT ${MAX_SUBSCRIPTIONS_PER_WORKSPACE}`,
        [workspaceId, query.trigger ?? null, query.status ?? null]);
      return rows.map(toView);
    },

    async get(workspaceId: string, id: string): Promise<SubscriptionView> {
      return toView(await find(workspaceId, id));
    },

    async pause(workspaceId: string, id: string): Promise<SubscriptionView> {
      await find(workspaceId, id);
      const { rows } = await pool.query<Row>(`UPDATE trigger_subscription SET status = 'paused', updated_at = now() WHERE workspace_id = $1 AND id = $2 AND status = 'active' RETURNING ${COLUMNS}`, [workspaceId, id]);
      return toView(rows[0] ?? (await find(workspaceId, id)));
    },

    /** Active again (also after a disable); what waited is sent now. */
    async resume(workspaceId: string, id: string): Promise<SubscriptionView> {
      await find(workspaceId, id);
      const { rows } = await pool.query<Row>(
        `UPDATE trigger_subscription SET status = 'active', disabled_reason = NULL, failing_since = NULL, updated_at = now()
          WHERE workspace_id = $1 AND id = $2 RETURNING ${COLUMNS}`, [workspaceId, id]);
      await sendWaiting(workspaceId, id);
      return toView(rows[0]!);
    },

    /** A new secret; the old one keeps signing (both signatures are sent) for `graceSeconds`. */
    async rotateSecret(workspaceId: string, id: string, graceSeconds: number): Promise<{ subscription: SubscriptionView; secret: string }> {
      await find(workspaceId, id);
      const secret = newSigningSecret();
      const sealed = await sealSubscriptionSecret(deps.vault, workspaceId, id, secret);
      const { rows } = await pool.query<Row>(
        `UPDATE trigger_subscription SET previous_secret_ciphertext = CASE WHEN $4 > 0 THEN secret_ciphertext END,
                previous_secret_expires_at = CASE WHEN $4 > 0 THEN now() + make_interval(secs => $4) END,
                secret_ciphertext = $3, secret_hint = $5, updated_at = now()
          WHERE workspace_id = $1 AND id = $2 RETURNING ${COLUMNS}`,
        [workspaceId, id, sealed, graceSeconds, secretHint(secret)]);
      return { subscription: toView(rows[0]!), secret };
    },

    async remove(workspaceId: string, id: string): Promise<void> {
      const { rowCount } = await pool.query(`DELETE FROM trigger_subscription WHERE workspace_id = $1 AND id = $2`, [workspaceId, id]);
      if (rowCount === 0) throw notFound("Subscription");
    },

    /** Sends the trigger's first example to this subscription only, as a `test` event. */
    async sendTest(workspaceId: string, id: string): Promise<{ event_id: string; delivery_id: string }> {
      const row = await find(workspaceId, id);
      const example = registry.getTrigger(row.trigger)?.examples[0];
      if (!example) throw new AppError("CONFLICT", `Trigger ${row.trigger} has no example to send.`);
      const emitted = await emitEvent(pool, registry, {
        workspaceId, trigger: row.trigger, data: { ...example }, dedupKey: `test:${uuidv7()}`, source: "test", onlySubscriptionId: id,
      });
      const delivery = emitted.deliveries[0];
      if (!emitted.eventId || !delivery) throw new Error("unreachable: a test event always has its delivery");
      await deps.producer.enqueue([{ ...delivery, attempt: 1 }])
        .catch((error: Error) => deps.logger.warn({ err: { message: error.message } }, "could not enqueue a test delivery; the sweeper will"));
      return { event_id: emitted.eventId, delivery_id: delivery.deliveryId };
    },
  };
}

export type TriggerSubscriptionService = ReturnType<typeof createTriggerSubscriptionService>;
