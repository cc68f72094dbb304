/**
 * Bounds what a run stores. Inputs are kept whole while the run may still need them, then compacted when it ends;
 * outputs are compacted when written. Compaction replaces the largest string values (file contents, long texts) with
 * a marker `{"truncated": true, "bytes": n, "preview": "…"}` until the JSON fits; when many small values are the
 * problem (a list of 40,000 tasks), it replaces whole arrays or objects below the top level the same way, so the
 * shape around them survives (an output stays an envelope `{data, error, successful}`). The run records that it did
 * (`input_truncated` / `output_truncated`): never a silent cut. PostgreSQL compresses what remains (TOAST).
 */
export const STORED_INPUT_MAX_BYTES = 64 * 1024;
export const STORED_OUTPUT_MAX_BYTES = 1024 * 1024;
const PREVIEW_CHARS = 200;
/** A bound on the cutting passes (each measures the whole value again); what still does not fit keeps a summary. */
const MAX_CONTAINER_CUTS = 32;

export interface Compacted {
  readonly value: unknown;
  readonly truncated: boolean;
  /** `value` as JSON, to store without serialising it again. */
  readonly json: string;
}

export function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value) ?? "null");
}

type Parent = Record<string | number, unknown>;

export function compactJson(value: unknown, maxBytes: number): Compacted {
  // The common case costs one serialisation, whose text is what gets stored.
  const whole = JSON.stringify(value) ?? "null";
  if (Buffer.byteLength(whole) <= maxBytes) return { value, truncated: false, json: whole };
  const cut = cutToFit(value, maxBytes);
  return { ...cut, json: JSON.stringify(cut.value) };
}

function cutToFit(value: unknown, maxBytes: number): { value: unknown; truncated: true } {
  // Collect string leaves by size, replace the largest first.
  const clone = structuredClone(value);
  const leaves: { parent: Parent; key: string | number; size: number }[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach((v, i) => visit(node as unknown as Parent, i, v));
    else if (node && typeof node === "object") for (const [k, v] of Object.entries(node)) visit(node as Parent, k, v);
  };
  const visit = (parent: Parent, key: string | number, v: unknown) => {
    if (typeof v === "string" && v.length > PREVIEW_CHARS) leaves.push({ parent, key, size: Buffer.byteLength(v) });
    else walk(v);
  };
  walk(clone);
  leaves.sort((a, b) => b.size - a.size);
  for (const leaf of leaves) {
    const text = leaf.parent[leaf.key] as string;
    leaf.parent[leaf.key] = { truncated: true, bytes: leaf.size, preview: text.slice(0, PREVIEW_CHARS) };
    if (jsonBytes(clone) <= maxBytes) return { value: clone, truncated: true };
  }
  // Still too large (many small values): cut whole arrays or objects below the top. Prefer the smallest one whose cut
  // alone makes the JSON fit (the least lost); when none does, cut the largest and look again.
  for (let cuts = 0; cuts < MAX_CONTAINER_CUTS; cuts++) {
    const excess = jsonBytes(clone) - maxBytes;
    if (excess <= 0) return { value: clone, truncated: true };
    const containers = measureContainers(clone).sort((a, b) => a.size - b.size);
    const largest = containers.at(-1);
    if (!largest) break;
    let chosen: { container: Container; marker: unknown } | undefined;
    for (const container of containers) {
      const marker = markerOf(container.parent[container.key], container.size);
      if (container.size - jsonBytes(marker) >= excess) {
        chosen = { container, marker };
        break;
      }
    }
    chosen ??= { container: largest, marker: markerOf(largest.parent[largest.key], largest.size) };
    chosen.container.parent[chosen.container.key] = chosen.marker;
  }
  if (jsonBytes(clone) <= maxBytes) return { value: clone, truncated: true };
  // A top level of many small values: keep a summary only.
  return { value: { truncated: true, bytes: jsonBytes(value), preview: JSON.stringify(value).slice(0, PREVIEW_CHARS) }, truncated: true };
}

interface Container {
  readonly parent: Parent;
  readonly key: string | number;
  /** Bytes of its JSON. */
  readonly size: number;
}

function markerOf(node: unknown, bytes: number): unknown {
  return { truncated: true, bytes, preview: JSON.stringify(node).slice(0, PREVIEW_CHARS) };
}

/** Every array and object below the top with the size of its JSON, measured bottom-up in one pass. */
function measureContainers(root: unknown): Container[] {
  const out: Container[] = [];
  const size = (node: unknown, parent: Parent | null, key: string | number): number => {
    let bytes: number;
    if (Array.isArray(node)) {
      bytes = 2 + Math.max(0, node.length - 1);
      node.forEach((v, i) => (bytes += size(v === undefined ? null : v, node as unknown as Parent, i)));
    } else if (node !== null && typeof node === "object") {
      const entries = Object.entries(node).filter(([, v]) => v !== undefined);
      bytes = 2 + Math.max(0, entries.length - 1);
      for (const [k, v] of entries) bytes += jsonBytes(k) + 1 + size(v, node as Parent, k);
    } else {
      return jsonBytes(node);
    }
    if (parent) out.push({ parent, key, size: bytes });
    return bytes;
  };
  size(root, null, "");
  return out;
}
