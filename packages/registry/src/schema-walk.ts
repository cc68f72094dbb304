import { appendPointer, isPlainObject } from "./json-pointer";
import type { JsonSchema, JsonSchemaObject } from "./types";

/**
 * Which keywords of draft 2020-12 hold sub-schemas, and how. Walking only these keeps a property *named* `examples`
 * or `x-secret` from being mistaken for a keyword.
 */
export const SINGLE_SCHEMA_KEYWORDS = [
  "items",
  "additionalProperties",
  "not",
  "if",
  "then",
  "else",
  "contains",
  "propertyNames",
  "unevaluatedItems",
  "unevaluatedProperties",
  "contentSchema",
] as const;
export const SCHEMA_MAP_KEYWORDS = ["properties", "patternProperties", "dependentSchemas", "$defs"] as const;
export const SCHEMA_ARRAY_KEYWORDS = ["allOf", "anyOf", "oneOf", "prefixItems"] as const;

export type SchemaVisitor = (schema: JsonSchema, pointer: string) => void;

/** Calls `visit` on `schema` and on every sub-schema inside it (depth first), with each one's JSON pointer. */
export function walkSchema(schema: JsonSchema, pointer: string, visit: SchemaVisitor): void {
  visit(schema, pointer);
  if (!isPlainObject(schema)) return;
  for (const keyword of SINGLE_SCHEMA_KEYWORDS) {
    const sub = schema[keyword];
    if (isSchema(sub)) walkSchema(sub, appendPointer(pointer, keyword), visit);
  }
  for (const keyword of SCHEMA_MAP_KEYWORDS) {
    const map = schema[keyword];
    if (!isPlainObject(map)) continue;
    for (const [name, sub] of Object.entries(map)) {
      if (isSchema(sub)) walkSchema(sub, appendPointer(pointer, keyword, name), visit);
    }
  }
  for (const keyword of SCHEMA_ARRAY_KEYWORDS) {
    const list = schema[keyword];
    if (!Array.isArray(list)) continue;
    list.forEach((sub, i) => {
      if (isSchema(sub)) walkSchema(sub, appendPointer(pointer, keyword, i), visit);
    });
  }
}

/**
 * Rebuilds a schema bottom-up: `transform` receives each sub-schema object after its own sub-schemas were rebuilt
 * and returns the replacement. Boolean schemas pass through unchanged.
 */
export function mapSchema(schema: JsonSchema, transform: (schema: JsonSchemaObject) => JsonSchema): JsonSchema {
  if (!isPlainObject(schema)) return schema;
  const out: JsonSchemaObject = { ...schema };
  for (const keyword of SINGLE_SCHEMA_KEYWORDS) {
    const sub = out[keyword];
    if (isSchema(sub)) out[keyword] = mapSchema(sub, transform);
  }
  for (const keyword of SCHEMA_MAP_KEYWORDS) {
    const map = out[keyword];
    if (!isPlainObject(map)) continue;
    out[keyword] = Object.fromEntries(Object.entries(map).map(([k, v]) => [k, isSchema(v) ? mapSchema(v, transform) : v]));
  }
  for (const keyword of SCHEMA_ARRAY_KEYWORDS) {
    const list = out[keyword];
    if (Array.isArray(list)) out[keyword] = list.map((v) => (isSchema(v) ? mapSchema(v, transform) : v));
  }
  return transform(out);
}

export function isSchema(value: unknown): value is JsonSchema {
  return typeof value === "boolean" || isPlainObject(value);
}

/** The `$ref` of a schema object, when it has one. */
export function refOf(schema: JsonSchema): string | undefined {
  return isPlainObject(schema) && typeof schema["$ref"] === "string" ? schema["$ref"] : undefined;
}

export const JSON_TYPES = ["null", "boolean", "object", "array", "number", "integer", "string"] as const;
export type JsonType = (typeof JSON_TYPES)[number];

/** The `type` keyword as a list, or `undefined` when the schema does not constrain the type by `type`. */
export function declaredTypes(schema: JsonSchema): JsonType[] | undefined {
  if (!isPlainObject(schema)) return undefined;
  const t = schema["type"];
  if (typeof t === "string") return [t as JsonType];
  if (Array.isArray(t)) return t.filter((x): x is JsonType => typeof x === "string") as JsonType[];
  return undefined;
}

/** The JSON type of a value, as JSON Schema names it (`integer` for whole numbers). */
export function jsonTypeOf(value: unknown): JsonType {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  if (typeof value === "string") return "string";
  if (typeof value === "boolean") return "boolean";
  return "object";
}

/**
 * Resolves a local `$ref` (`#/$defs/Name/...`) against `root`. Returns `undefined` when it does not resolve.
 * Only same-document references exist in bundled schemas.
 */
export function resolveLocalRef(root: JsonSchema, ref: string): JsonSchema | undefined {
  if (!ref.startsWith("#")) return undefined;
  const fragment = decodeURIComponent(ref.slice(1));
  if (fragment !== "" && !fragment.startsWith("/")) return undefined;
  let current: unknown = root;
  for (const raw of fragment === "" ? [] : fragment.slice(1).split("/")) {
    const token = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (Array.isArray(current)) current = current[Number(token)];
    else if (isPlainObject(current) && Object.hasOwn(current, token)) current = current[token];
    else return undefined;
  }
  return isSchema(current) ? current : undefined;
}

/**
 * Follows `$ref`s from `schema` to the schema they name. Keywords next to a `$ref` (draft 2020-12 allows them) are
 * laid over the target's: right for annotations such as `description`, an approximation of `allOf` for
 * constraints, which manifests do not put next to a `$ref`. Stops at a cycle or a dangling ref (returned as is).
 */
export function deref(root: JsonSchema, schema: JsonSchema): JsonSchema {
  const seen = new Set<string>();
  let current = schema;
  for (;;) {
    const ref = refOf(current);
    if (ref === undefined || seen.has(ref)) return current;
    seen.add(ref);
    const target = resolveLocalRef(root, ref);
    if (target === undefined) return current;
    const { $ref: _ignored, ...siblings } = current as JsonSchemaObject;
    if (Object.keys(siblings).length === 0 || typeof target === "boolean") current = target;
    else current = { ...target, ...siblings };
  }
}

/** Keywords that describe a schema without constraining what it accepts. */
export const ANNOTATIONS: ReadonlySet<string> = new Set([
  "description",
  "title",
  "examples",
  "default",
  "$comment",
  "deprecated",
  "readOnly",
  "writeOnly",
  "x-secret",
  "x-sensitive",
  "contentEncoding",
  "contentMediaType",
]);
