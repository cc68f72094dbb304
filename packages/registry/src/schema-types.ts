import { isPlainObject } from "./json-pointer";
import { deref, jsonTypeOf, JSON_TYPES, type JsonType } from "./schema-walk";
import type { JsonSchema } from "./types";

/**
 * The JSON types a schema can accept, as far as `type`, `enum`/`const`, `anyOf`/`oneOf`/`allOf` and `$ref` tell;
 * `undefined` when it accepts any type (or the schema is too clever to tell). `integer` is listed on its own: a
 * schema of type `number` yields both `number` and `integer`.
 */
export function possibleTypes(root: JsonSchema, schema: JsonSchema, depth = 0): Set<JsonType> | undefined {
  if (depth > 32) return undefined;
  const s = deref(root, schema);
  if (s === true) return undefined;
  if (s === false) return new Set();
  if (!isPlainObject(s)) return undefined;
  let result: Set<JsonType> | undefined;
  const narrow = (types: Set<JsonType> | undefined): void => {
    if (types === undefined) return;
    result = result === undefined ? types : new Set([...result].filter((t) => types.has(t)));
  };
  const t = s["type"];
  if (typeof t === "string" || Array.isArray(t)) narrow(expand((Array.isArray(t) ? t : [t]) as JsonType[]));
  if (Object.hasOwn(s, "const")) narrow(expand([jsonTypeOf(s["const"])]));
  if (Array.isArray(s["enum"])) narrow(expand(s["enum"].map(jsonTypeOf)));
  for (const keyword of ["anyOf", "oneOf"] as const) {
    const branches = s[keyword];
    if (!Array.isArray(branches)) continue;
    const union = new Set<JsonType>();
    let any = false;
    for (const branch of branches) {
      const types = possibleTypes(root, branch as JsonSchema, depth + 1);
      if (types === undefined) any = true;
      else for (const x of types) union.add(x);
    }
    if (!any) narrow(union);
  }
  if (Array.isArray(s["allOf"])) for (const branch of s["allOf"]) narrow(possibleTypes(root, branch as JsonSchema, depth + 1));
  return result;
}

/** `number` includes `integer`; an `integer` value is also a `number`. */
function expand(types: readonly JsonType[]): Set<JsonType> {
  const out = new Set<JsonType>();
  for (const t of types) {
    if (!(JSON_TYPES as readonly string[]).includes(t)) continue;
    out.add(t);
    if (t === "number") out.add("integer");
  }
  return out;
}

/** Whether every type in `types` is one of `allowed` (an `undefined` set means any type). */
export function typesWithin(types: ReadonlySet<JsonType> | undefined, allowed: readonly JsonType[]): boolean {
  if (types === undefined) return false;
  return [...types].every((t) => allowed.includes(t));
}

/** "string", "integer or null"… for messages. */
export function describeTypes(types: ReadonlySet<JsonType> | undefined): string {
  if (types === undefined) return "any type";
  const list = [...types].filter((t) => !(t === "integer" && types.has("number")));
  if (list.length === 0) return "nothing";
  return list.length === 1 ? list[0]! : `${list.slice(0, -1).join(", ")} or ${list.at(-1)!}`;
}
