import type { Paginator } from "./pagination.js";
import { ok, paged, Resource } from "./context.js";
import type { CallOptions } from "./transport.js";
import type {
  CreatedSubscription, CreateSubscription, EventDetail, EventsQuery, EventSummary, Redeliver, Redelivered, RotatedSecret, RotateSecret,
  Subscription, SubscriptionsQuery, TestDelivery, TriggerDetail, TriggerSlug, TriggersQuery, TriggerSummary,
} from "./types.js";

/** The trigger catalogue: what events can be subscribed to, with their payload schemas, filters and examples. */
export class Triggers extends Resource {
  /** Triggers by slug, paged lazily: `for await (const trigger of client.triggers.list({ integration: "scale_ai" }))`. */
  list(query: TriggersQuery = {}, call?: CallOptions): Paginator<TriggerSummary> {
    return paged(query, async (q) => ok(await this.ctx.raw.GET("/v1/triggers", { params: { query: q }, ...this.ctx.via(call) })), (page) => page.triggers);
  }

  /** A trigger with its payload schema (or that of `version`), filters and examples (typed as the trigger's payload). */
  async get<S extends TriggerSlug>(slug: S, options: CallOptions & { version?: number } = {}): Promise<TriggerDetail<S>> {
    const { version, ...call } = options;
    const query = version !== undefined ? { version } : {};
    return ok(await this.ctx.raw.GET("/v1/triggers/{slug}", { params: { path: { slug }, query }, ...this.ctx.via(call) })).trigger as TriggerDetail<S>;
  }
}

/**
 * Trigger subscriptions: events of a trigger POSTed to a URL, signed per Standard Webhooks (verify them with
 * `verifyWebhook` or `createWebhookHandler` and the subscription's secret).
 */
export class Subscriptions extends Resource {
  /** Subscribes `target.url` to a trigger. The answer carries the signing secret (`whsec_…`), this once: keep it. */
  async create(body: CreateSubscription, call?: CallOptions): Promise<CreatedSubscription> {
    return ok(await this.ctx.raw.POST("/v1/trigger-subscriptions", { body, ...this.ctx.via(call) }));
  }

  async list(query: SubscriptionsQuery = {}, call?: CallOptions): Promise<Subscription[]> {
    return ok(await this.ctx.raw.GET("/v1/trigger-subscriptions", { params: { query }, ...this.ctx.via(call) })).subscriptions;
  }

  async get(id: string, call?: CallOptions): Promise<Subscription> {
    return ok(await this.ctx.raw.GET("/v1/trigger-subscriptions/{id}", { params: { path: { id } }, ...this.ctx.via(call) })).subscription;
  }

  /** Holds deliveries (they wait, and are sent on `resume`). */
  async pause(id: string, call?: CallOptions): Promise<Subscription> {
    return ok(await this.ctx.raw.POST("/v1/trigger-subscriptions/{id}/pause", { params: { path: { id } }, ...this.ctx.via(call) })).subscription;
  }

  /** Active again (also after the platform disabled it); waiting deliveries are sent now. */
  async resume(id: string, call?: CallOptions): Promise<Subscription> {
    return ok(await this.ctx.raw.POST("/v1/trigger-subscriptions/{id}/resume", { params: { path: { id } }, ...this.ctx.via(call) })).subscription;
  }

  /**
   * A new signing secret, answered this once. For `grace_period_seconds` (default 86400; 0 ends the old one now)
   * deliveries carry both signatures, so a receiver can switch secrets without losing any.
   */
  async rotateSecret(id: string, body: RotateSecret = {}, call?: CallOptions): Promise<RotatedSecret> {
    return ok(await this.ctx.raw.POST("/v1/trigger-subscriptions/{id}/rotate-secret", { params: { path: { id } }, body, ...this.ctx.via(call) }));
  }

  async delete(id: string, call?: CallOptions): Promise<void> {
    await this.ctx.raw.DELETE("/v1/trigger-subscriptions/{id}", { params: { path: { id } }, ...this.ctx.via(call) });
  }

  /** Delivers the trigger's first example to this subscription only, as an event with source `test`. */
  async test(id: string, call?: CallOptions): Promise<TestDelivery> {
    return ok(await this.ctx.raw.POST("/v1/trigger-subscriptions/{id}/test", { params: { path: { id } }, ...this.ctx.via(call) }));
  }
}

/** The workspace's trigger events and their deliveries. */
export class Events extends Resource {
  /** Events, newest first, paged lazily: `for await (const event of client.events.list({ trigger: "SCALE_AI_TASK_COMPLETED" }))`. */
  list(query: EventsQuery = {}, call?: CallOptions): Paginator<EventSummary> {
    return paged(query, async (q) => ok(await this.ctx.raw.GET("/v1/events", { params: { query: q }, ...this.ctx.via(call) })), (page) => page.events);
  }

  /** An event with its deliveries and their latest attempts. */
  async get(id: string, call?: CallOptions): Promise<EventDetail> {
    return ok(await this.ctx.raw.GET("/v1/events/{id}", { params: { path: { id } }, ...this.ctx.via(call) })).event;
  }

  /** Sends the event again (same webhook-id, a fresh retry schedule) to every subscription it went to, or only `subscription_id`. */
  async redeliver(id: string, body: Redeliver = {}, call?: CallOptions): Promise<Redelivered> {
    return ok(await this.ctx.raw.POST("/v1/events/{id}/redeliver", { params: { path: { id } }, body, ...this.ctx.via(call) }));
  }
}
