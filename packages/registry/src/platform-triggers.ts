import type { TriggerFilterSpec, TriggerManifest } from "./types";

/**
 * Triggers the platform itself emits (not an integration's): integration slug `nagent`. They have the shape of
 * manifest triggers and go through the same checks and compilation when the registry loads (a broken one is a
 * programming error: `loadRegistry` throws). A manifest may not reuse their slugs.
 */
export const PLATFORM_INTEGRATION = "nagent";

const CONNECTION_STATUS = { type: "string", enum: ["active", "degraded", "invalid"] } as const;
const UUID = { type: "string", format: "uuid" } as const;

/** Equality filters on top-level payload fields: each is named after its field, and its path points at it. */
function fieldFilters(filters: Readonly<Record<string, Omit<TriggerFilterSpec, "path">>>): Record<string, TriggerFilterSpec> {
  return Object.fromEntries(Object.entries(filters).map(([field, filter]) => [field, { ...filter, path: `/${field}` }]));
}

export const PLATFORM_TRIGGERS: readonly TriggerManifest[] = [
  {
    slug: "NAGENT_CONNECTION_STATUS_CHANGED",
    name: "Connection status changed",
    description:
      "A connection of the workspace changed status: `active` (its credentials work), `degraded` (calls fail for reasons other than the credentials, e.g. the upstream is unreachable) or `invalid` (the upstream rejected the credentials; replace them).",
    group: "connections",
    source: "platform",
    payload: {
      type: "object",
      // Open, like the manifests' payloads: a field added later is a backward-compatible change for subscribers.
      additionalProperties: true,
      required: ["connection_id", "integration", "from", "to", "reason", "changed_at"],
      properties: {
        connection_id: { ...UUID, description: "The connection's id." },
        integration: { type: "string", maxLength: 64, description: "The connection's integration slug, e.g. scale_ai." },
        from: { ...CONNECTION_STATUS, description: "The status before." },
        to: { ...CONNECTION_STATUS, description: "The status now." },
        reason: { type: ["string", "null"], maxLength: 1000, description: "Why, in a sentence (never a credential); null when there is nothing to say." },
        changed_at: { type: "string", format: "date-time", description: "When the status changed (ISO 8601, UTC)." },
      },
    },
    examples: [
      {
        connection_id: "0193a6f2-5c3e-7d41-9b2a-1f6e8c0d4a21",
        integration: "scale_ai",
        from: "active",
        to: "invalid",
        reason: "The upstream answered 401 Unauthorized to the credential check.",
        changed_at: "2026-12-06T10:15:00.000Z",
      },
    ],
    filters: fieldFilters({
      integration: { description: "Only connections of this integration.", schema: { type: "string", maxLength: 64 } },
      connection_id: { description: "Only this connection.", schema: UUID },
      to: { description: "Only changes to this status.", schema: { ...CONNECTION_STATUS } },
    }),
  },
  {
    slug: "NAGENT_SUBSCRIPTION_DISABLED",
    name: "Trigger subscription disabled",
    description:
      "A trigger subscription of the workspace was disabled by the platform: its target answered 410 Gone, or its deliveries failed for days without a success. Its deliveries are held from then on; fix the target and resume it (PATCH /v1/trigger-subscriptions/:id with status active) to send what waits.",
    group: "triggers",
    source: "platform",
    payload: {
      type: "object",
      // Open, like the manifests' payloads: a field added later is a backward-compatible change for subscribers.
      additionalProperties: true,
      required: ["subscription_id", "trigger", "target_url", "reason", "disabled_at"],
      properties: {
        subscription_id: { ...UUID, description: "The disabled subscription's id." },
        trigger: { type: "string", maxLength: 128, description: "The trigger it subscribed to, e.g. SCALE_AI_TASK_COMPLETED." },
        target_url: { type: "string", maxLength: 2048, description: "Its target URL (never its signing secret)." },
        reason: { type: "string", maxLength: 1000, description: "Why it was disabled, in a sentence (also its `disabled_reason`)." },
        disabled_at: { type: "string", format: "date-time", description: "When it was disabled (ISO 8601, UTC)." },
      },
    },
    examples: [
      {
        subscription_id: "0193a6f2-7a10-7c55-8e3d-2b4f6a9c1e07",
        trigger: "SCALE_AI_TASK_COMPLETED",
        target_url: "https://hooks.example.com/scale",
        reason: "The target answered 410 Gone: deliveries stopped.",
        disabled_at: "2026-12-06T10:15:00.000Z",
      },
    ],
    filters: fieldFilters({
      trigger: { description: "Only subscriptions to this trigger.", schema: { type: "string", maxLength: 128 } },
      subscription_id: { description: "Only this subscription.", schema: UUID },
    }),
  },
];
