/**
 * Bounds what a run stores. Inputs are kept whole while the run may still need them, then compacted when it ends;
 * outputs are compacted when written. Compaction replaces the largest string values (file contents, long texts) with
 * a marker `{"truncated": true, "bytes": n, "preview": "…"}` until the JSON fits, and the run records that it
 * did (`input_truncated` / `output_truncated`): never a silent cut. PostgreSQL compresses what remains (TOAST).
 */
export const STORED_INPUT_MAX_BYTES = 64 * 1024;
export const STORED_OUTPUT_MAX_BYTES = 1024 * 1024;
const PREVIEW_CHARS = 200;

export interface Compacted {
  readonly value: unknown;
  readonly truncated: boolean;
}

export function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value) ?? "null");
}

export function compactJson(value: unknown, maxBytes: number): Compacted {
  if (jsonBytes(value) <= maxBytes) return { value, truncated: false };
  // Collect string leaves by size, replace the largest first.
  const clone = structuredClone(value);
  const leaves: { parent: Record<string, unknown> | unknown[]; key: string | number; size: number }[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach((v, i) => visit(node, i, v));
    else if (node && typeof node === "object") for (const [k, v] of Object.entries(node)) visit(node as Record<string, unknown>, k, v);
  };
  const visit = (parent: Record<string, unknown> | unknown[], key: string | number, v: unknown) => {
    if (typeof v === "string" && v.length > PREVIEW_CHARS) leaves.push({ parent, key, size: Buffer.byteLength(v) });
    else walk(v);
  };
  walk(clone);
  leaves.sort((a, b) => b.size - a.size);
  let current: unknown = clone;
  for (const leaf of leaves) {
    const text = (leaf.parent as Record<string | number, string>)[leaf.key]!;
    (leaf.parent as Record<string | number, unknown>)[leaf.key] = { truncated: true, bytes: leaf.size, preview: text.slice(0, PREVIEW_CHARS) };
    if (jsonBytes(current) <= maxBytes) return { value: current, truncated: true };
  }
  // Still too large (many small values): keep a summary only.
  current = { truncated: true, bytes: jsonBytes(value), preview: JSON.stringify(value).slice(0, PREVIEW_CHARS) };
  return { value: current, truncated: true };
}
