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
}

export function toConnectionView(row: ConnectionRow): ConnectionView {
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
  };
}
