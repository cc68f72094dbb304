import { isPlainObject } from "./json-pointer";
import { possibleTypes } from "./schema-types";
import { deref, isSchema } from "./schema-walk";
import type { JsonSchema } from "./types";

/** The schema found at a data path, and whether the value there may be missing even when the document is valid. */
export interface SchemaAtPath {
  readonly schema: JsonSchema;
  readonly optional: boolean;
}

export type SchemaPathResult = { readonly ok: true; readonly found: SchemaAtPath } | { readonly ok: false; readonly at: number; readonly reason: string };

const INDEX = /^(0|[1-9][0-9]*)$/;

/**
 * Walks a (bundled) schema along the tokens of a data path: object properties (declared ones, pattern ones, or a
 * schema-valued `additionalProperties`), array indexes (`items`, `prefixItems`), `$ref`s into `$defs`, and every
 * branch of `anyOf`/`oneOf`/`allOf`. A path the schema does not declare fails, naming the token it stopped at:
 * an open object (`additionalProperties` true) says nothing about what its undeclared keys hold.
 */
export function schemaAtPath(root: JsonSchema, schema: JsonSchema, tokens: readonly string[], optional = false, depth = 0): SchemaPathResult {
  const s = deref(root, schema);
  if (tokens.length === 0) return { ok: true, found: { schema: s, optional } };
  if (depth > 64) return { ok: false, at: 0, reason: "the schema nests too deeply to follow" };
  const [token, ...rest] = tokens as [string, ...string[]];
  if (!isPlainObject(s)) {
    return s === true ? { ok: true, found: { schema: true, optional: true } } : { ok: false, at: 0, reason: "nothing can be there" };
  }

  const branches = [...asList(s["anyOf"]), ...asList(s["oneOf"]), ...asList(s["allOf"])];
  if (branches.length > 0) {
    const found: SchemaAtPath[] = [];
    let deepest: SchemaPathResult | undefined;
    for (const branch of branches) {
      const r = schemaAtPath(root, branch, tokens, optional, depth + 1);
      if (r.ok) found.push(r.found);
      else if (deepest === undefined || (!deepest.ok && r.at > deepest.at)) deepest = r;
    }
    const own = stepInto(root, s, token, optional);
    if (own !== undefined) {
      const r = schemaAtPath(root, own.schema, rest, own.optional, depth + 1);
      if (r.ok) found.push(r.found);
      else deepest = shift(r);
    }
    if (found.length === 1) return { ok: true, found: found[0]! };
    if (found.length > 1) return { ok: true, found: { schema: { anyOf: found.map((f) => f.schema) }, optional: found.some((f) => f.optional) } };
    return deepest ?? { ok: false, at: 0, reason: notDeclared(token) };
  }

  const next = stepInto(root, s, token, optional);
  if (next === undefined) return { ok: false, at: 0, reason: notDeclared(token, possibleTypes(root, s)?.has("array") === true) };
  return shift(schemaAtPath(root, next.schema, rest, next.optional, depth + 1));
}

function shift(r: SchemaPathResult): SchemaPathResult {
  return r.ok ? r : { ok: false, at: r.at + 1, reason: r.reason };
}

function notDeclared(token: string, isArray = false): string {
  if (INDEX.test(token)) return `${token} is not an index the schema declares`;
  return isArray ? `"${token}" is used on an array (use a numeric index)` : `"${token}" is not declared`;
}

/** One step down from an object or array schema (already dereferenced), or `undefined` if the token is not there. */
function stepInto(root: JsonSchema, s: Record<string, unknown>, token: string, optional: boolean): SchemaAtPath | undefined {
  const types = possibleTypes(root, s);
  if (INDEX.test(token) && (types === undefined || types.has("array"))) {
    const index = Number(token);
    const prefix = asList(s["prefixItems"]);
    const minItems = typeof s["minItems"] === "number" ? s["minItems"] : 0;
    const missing = optional || index >= minItems;
    if (index < prefix.length) return { schema: prefix[index]!, optional: missing };
    if (isSchema(s["items"])) return { schema: s["items"], optional: missing };
  }
  if (types === undefined || types.has("object")) {
    const properties = isPlainObject(s["properties"]) ? s["properties"] : {};
    const required = Array.isArray(s["required"]) ? s["required"] : [];
    if (Object.hasOwn(properties, token) && isSchema(properties[token])) {
      return { schema: properties[token], optional: optional || !required.includes(token) };
    }
    const patterns = isPlainObject(s["patternProperties"]) ? s["patternProperties"] : {};
    for (const [pattern, sub] of Object.entries(patterns)) {
      if (isSchema(sub) && safeTest(pattern, token)) return { schema: sub, optional: true };
    }
    const additional = s["additionalProperties"];
    if (isPlainObject(additional)) return { schema: additional, optional: true };
  }
  return undefined;
}

function asList(value: unknown): JsonSchema[] {
  return Array.isArray(value) ? value.filter(isSchema) : [];
}

function safeTest(pattern: string, value: string): boolean {
  try {
    return new RegExp(pattern, "u").test(value);
  } catch {
    return false;
  }
}
