/** A connection as the API shows it: never the ciphertext, only the masked hint. */
export interface ConnectionView {
  id: string;
  integration: string;
  name: string;
  is_default: boolean;
  status: "active" | "invalid";
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
    status: row.status === "invalid" ? "invalid" : "active",
    credential_hint: row.credentialHint,
    base_url: row.baseUrl,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
    last_verified_at: row.lastVerifiedAt?.toISOString() ?? null,
    last_error: row.lastError,
    events: row.eventsMode === "poll" ? "poll" : "callback",
    inbound_url: row.inboundToken ? inboundUrl(publicUrl, row.integration, row.inboundToken) : null,
    callback_auth_hint: row.callbackAuthHint,
  };
}
