/** A connection as the API shows it: never the ciphertext, only the masked hint. */
export interface ConnectionView {
  id: string;
  integration: string;
  name: string;
  is_default: boolean;
  status: "active" | "degraded" | "invalid";
  credential_hint: string;
  base_url: string | null;
  created_at: string;
  updated_at: string;
  last_verified_at: string | null;
  last_error: string | null;
  /** How the connection's trigger events arrive: Scale's callbacks to `inbound_url`, or polling. */
  events: "callback" | "poll";
  /** Where the upstream sends callbacks (null for integrations without callbacks). */
  inbound_url: string | null;
  /** The callback auth key, masked; null when none was given (callbacks are then refused). */
  callback_auth_hint: string | null;
  /** Bounds of the connection's adaptive pacing (null: the deployment's). */
  rate_limit: { min_rps: number | null; max_rps: number | null };
  /** When the health probe re-tests a degraded or invalid connection next. */
  next_probe_at: string | null;
}

export interface ConnectionRow {
  id: string;
  integration: string;
  name: string;
  isDefault: boolean;
  status: string;
  ciphertext: Uint8Array;
  credentialHint: string;
  baseUrl: string | null;
  createdAt: Date;
  updatedAt: Date;
  lastVerifiedAt: Date | null;
  lastError: string | null;
  inboundToken: string | null;
  eventsMode: string;
  callbackAuthHint: string | null;
  rateMinRps: number | null;
  rateMaxRps: number | null;
  nextProbeAt: Date | null;
}

/** The inbound callback URL of a connection's token. */
export function inboundUrl(publicUrl: string, integration: string, token: string): string {
  return `${publicUrl}/v1/inbound/${integration}/${token}`;
}

export function toConnectionView(row: ConnectionRow, publicUrl: string): ConnectionView {
  return {
    id: row.id,
    integration: row.integration,
    name: row.name,
    is_default: row.isDefault,
    status: row.status === "invalid" ? "invalid" : row.status === "degraded" ? "degraded" : "active",
    credential_hint: row.credentialHint,
    base_url: row.baseUrl,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
    last_verified_at: row.lastVerifiedAt?.toISOString() ?? null,
    last_error: row.lastError,
    events: row.eventsMode === "poll" ? "poll" : "callback",
    inbound_url: row.inboundToken ? inboundUrl(publicUrl, row.integration, row.inboundToken) : null,
    callback_auth_hint: row.callbackAuthHint,
    rate_limit: { min_rps: row.rateMinRps, max_rps: row.rateMaxRps },
    next_probe_at: row.status === "active" ? null : row.nextProbeAt?.toISOString() ?? null,
  };
}

/** A status transition as GET /v1/connections/:id/events shows it. */
export interface ConnectionEventView {
  id: string;
  from: string;
  to: string;
  reason: string;
  created_at: string;
}

export function toConnectionEventView(row: { id: string; from_status: string; to_status: string; reason: string; created_at: Date }): ConnectionEventView {
  return { id: row.id, from: row.from_status, to: row.to_status, reason: row.reason, created_at: row.created_at.toISOString() };
}
