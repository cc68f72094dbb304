import { createHash } from "node:crypto";

/** JSON with object keys sorted, so equal requests hash equally whatever their key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/** The fingerprint an Idempotency-Key is bound to: the action, the connection and the input (not the wait mode). */
export function requestHash(parts: { action: string; connectionId: string | null; input: unknown }): string {
  return createHash("sha256").update(canonicalJson({ action: parts.action, connection_id: parts.connectionId, input: parts.input })).digest("hex");
}
