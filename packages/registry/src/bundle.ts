import { isPlainObject } from "./json-pointer";
import { mapSchema, refOf, resolveLocalRef, walkSchema } from "./schema-walk";
import type { JsonSchema, JsonSchemaObject } from "./types";

const DEFS_PREFIX = "#/$defs/";

/** The top-level `$defs` name a reference points into (`#/$defs/Task/properties/x` → `Task`), if it does. */
export function defNameOf(ref: string): string | undefined {
  if (!ref.startsWith(DEFS_PREFIX)) return undefined;
  const name = ref.slice(DEFS_PREFIX.length).split("/")[0];
  return name === undefined || name === "" ? undefined : decodeURIComponent(name).replace(/~1/g, "/").replace(/~0/g, "~");
}

/** Every `$ref` string inside a schema (sub-schemas included, `$defs` excluded unless `includeDefs`). */
export function collectRefs(schema: JsonSchema, includeDefs = false): string[] {
  const refs: string[] = [];
  const target = !includeDefs && isPlainObject(schema) && "$defs" in schema ? omit(schema, "$defs") : schema;
  walkSchema(target, "", (sub) => {
    const ref = refOf(sub);
    if (ref !== undefined) refs.push(ref);
  });
  return refs;
}

/** Names of the `defs` a schema reaches, directly or through other defs, in a stable (sorted) order. */
export function reachableDefs(schema: JsonSchema, defs: Readonly<Record<string, JsonSchema>>): string[] {
  const reached = new Set<string>();
  const queue = collectRefs(schema);
  while (queue.length > 0) {
    const name = defNameOf(queue.pop()!);
    if (name === undefined || reached.has(name) || !Object.hasOwn(defs, name)) continue;
    reached.add(name);
    queue.push(...collectRefs(defs[name]!));
  }
  return [...reached].sort();
}

/**
 * A standalone copy of an action schema: the schema itself plus only the manifest `$defs` it reaches, so that the
 * API can serve it and ajv can compile it without the rest of the manifest.
 */
export function bundleSchema(schema: JsonSchema, defs: Readonly<Record<string, JsonSchema>> = {}): JsonSchema {
  const names = reachableDefs(schema, defs);
  if (names.length === 0 || typeof schema === "boolean") return structuredClone(schema);
  return { ...structuredClone(schema), $defs: Object.fromEntries(names.map((n) => [n, structuredClone(defs[n]!)])) };
}

/**
 * Replaces every `$ref` of a bundled schema by a copy of what it points at, and drops `$defs`, for consumers that
 * handle references poorly (tool definitions for LLM vendors). A definition that reaches itself cannot be inlined:
 * its references stay and the definitions they need are kept in `$defs`.
 */
export function inlineRefs(bundled: JsonSchema): JsonSchema {
  if (!isPlainObject(bundled)) return bundled;
  const root = bundled;
  const kept = new Set<string>();

  const inline = (schema: JsonSchema, stack: readonly string[]): JsonSchema =>
    mapSchema(schema, (node) => {
      const ref = refOf(node);
      if (ref === undefined) return node;
      if (stack.includes(ref)) {
        const name = defNameOf(ref);
        if (name !== undefined) kept.add(name);
        return node;
      }
      const target = resolveLocalRef(root, ref);
      if (target === undefined) return node;
      const expanded = inline(target, [...stack, ref]);
      const siblings = omit(node, "$ref");
      if (typeof expanded === "boolean") {
        if (Object.keys(siblings).length === 0) return expanded;
        // `true` adds nothing to its siblings; `false` (nothing is valid) becomes `not: {}` next to them.
        return expanded ? siblings : { ...siblings, not: {} };
      }
      return { ...expanded, ...siblings };
    });

  const body = inline(omit(root, "$defs"), []);
  if (kept.size === 0 || typeof body === "boolean") return body;
  // Keep each cyclic definition (and whatever it reaches) verbatim, so its own references resolve.
  const defs = (root["$defs"] ?? {}) as Record<string, JsonSchema>;
  const names = new Set<string>(kept);
  for (const name of kept) for (const n of reachableDefs(defs[name] ?? true, defs)) names.add(n);
  return { ...body, $defs: Object.fromEntries([...names].sort().map((n) => [n, defs[n] ?? true])) };
}

export function omit(schema: JsonSchemaObject, ...keys: string[]): JsonSchemaObject {
  const out: JsonSchemaObject = {};
  for (const [k, v] of Object.entries(schema)) if (!keys.includes(k)) out[k] = v;
  return out;
}
