import { isPlainObject } from "./json-pointer";
import type { JsonSchema } from "./types";

/**
 * Redaction from schema annotations (FORMAT.md, "Sensitive fields"): a property whose schema says `writeOnly: true` or
 * `"x-sensitive": true` is masked wherever a run's input or output is stored or logged; the upstream call itself gets
 * the real value (the worker merges the sealed values back, see `restoreSensitive`).
 *
 * A path is a list of property names where `*` stands for every item of an array. Paths are found by walking
 * `properties`, `items`, `prefixItems`, `allOf`/`anyOf`/`oneOf` and local `$ref`s (`#/$defs/…`) of a bundled schema.
 */
export type SensitivePath = readonly string[];

export const X_SENSITIVE = "x-sensitive";
/** What a masked value is replaced with in stored inputs and outputs. */
export const MASK = "[redacted]";

const MAX_DEPTH = 16;

export function sensitivePaths(schema: JsonSchema): SensitivePath[] {
  const found: SensitivePath[] = [];
  const seen = new Set<string>();
  const walk = (node: unknown, path: string[], refs: ReadonlySet<string>, depth: number): void => {
    if (!isPlainObject(node) || depth > MAX_DEPTH) return;
    if (node["writeOnly"] === true || node[X_SENSITIVE] === true) {
      const key = JSON.stringify(path);
      if (path.length > 0 && !seen.has(key)) {
        seen.add(key);
        found.push(path);
      }
      return;
    }
    const ref = node["$ref"];
    if (typeof ref === "string" && ref.startsWith("#/") && !refs.has(ref)) {
      walk(resolveLocal(schema, ref), path, new Set([...refs, ref]), depth + 1);
    }
    const properties = node["properties"];
    if (isPlainObject(properties)) for (const [name, sub] of Object.entries(properties)) walk(sub, [...path, name], refs, depth + 1);
    if (node["items"] !== undefined) walk(node["items"], [...path, "*"], refs, depth + 1);
    if (Array.isArray(node["prefixItems"])) for (const sub of node["prefixItems"]) walk(sub, [...path, "*"], refs, depth + 1);
    for (const k of ["allOf", "anyOf", "oneOf"]) {
      const list = node[k];
      if (Array.isArray(list)) for (const sub of list) walk(sub, path, refs, depth + 1);
    }
  };
  walk(schema, [], new Set(), 0);
  return found;
}

function resolveLocal(root: JsonSchema, ref: string): unknown {
  let node: unknown = root;
  for (const raw of ref.slice(2).split("/")) {
    if (!isPlainObject(node)) return undefined;
    node = node[raw.replace(/~1/g, "/").replace(/~0/g, "~")];
  }
  return node;
}

/**
 * A copy of `value` with every sensitive path masked, and the real values taken out (as `[pointer, value]` pairs, the
 * pointer with concrete array indexes), or `taken: []` when nothing was there. `value` itself is not changed.
 */
export function maskSensitive(value: unknown, paths: readonly SensitivePath[]): { masked: unknown; taken: [string, unknown][] } {
  if (paths.length === 0) return { masked: value, taken: [] };
  const taken: [string, unknown][] = [];
  let masked = value;
  for (const path of paths) masked = maskPath(masked, path, 0, "", taken);
  return { masked, taken };
}

function maskPath(node: unknown, path: SensitivePath, i: number, pointer: string, taken: [string, unknown][]): unknown {
  if (i === path.length) {
    if (node === undefined || node === null) return node;
    taken.push([pointer, node]);
    return MASK;
  }
  const step = path[i]!;
  if (step === "*") {
    if (!Array.isArray(node)) return node;
    let changed = false;
    const copy = node.map((item, index) => {
      const next = maskPath(item, path, i + 1, `${pointer}/${index}`, taken);
      if (next !== item) changed = true;
      return next;
    });
    return changed ? copy : node;
  }
  if (!isPlainObject(node) || !Object.hasOwn(node, step)) return node;
  const child = node[step];
  const next = maskPath(child, path, i + 1, `${pointer}/${step.replace(/~/g, "~0").replace(/\//g, "~1")}`, taken);
  return next === child ? node : { ...node, [step]: next };
}

/** Puts values taken by `maskSensitive` back into a (masked) copy: what the worker sends upstream. */
export function restoreSensitive<T>(masked: T, taken: readonly (readonly [string, unknown])[]): T {
  if (taken.length === 0) return masked;
  const copy = structuredClone(masked) as unknown;
  for (const [pointer, value] of taken) {
    const segments = pointer.split("/").slice(1).map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
    let node: unknown = copy;
    for (let i = 0; i < segments.length - 1; i++) node = isPlainObject(node) || Array.isArray(node) ? (node as Record<string, unknown>)[segments[i]!] : undefined;
    const last = segments[segments.length - 1];
    if (last !== undefined && (isPlainObject(node) || Array.isArray(node))) (node as Record<string, unknown>)[last] = value;
  }
  return copy as T;
}
