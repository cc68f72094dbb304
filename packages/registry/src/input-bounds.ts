import { X_MAX_JSON_BYTES } from "./ajv";
import { defNameOf } from "./bundle";
import { appendPointer, isPlainObject } from "./json-pointer";
import { declaredTypes, isSchema } from "./schema-walk";
import type { JsonSchema } from "./types";

/** String formats whose values have a bounded length (FORMAT.md names `date-time`; the others are as short). */
const BOUNDED_FORMATS: ReadonlySet<string> = new Set(["date-time", "date", "time", "uuid", "ipv4"]);

export interface UnboundedPlace {
  /** Pointer into the manifest: inside the action, or inside `$defs` when the place is in a shared schema. */
  readonly pointer: string;
  readonly message: string;
}

/**
 * Where an input schema lets a caller send an unbounded value (FORMAT.md, "every input bounded"): a string without
 * `maxLength` (or `enum`/`const`/a bounded `format`), an array without `maxItems`, a free-form object without
 * `maxProperties`, or an untyped value without `x-max-json-bytes`. Shared `$defs` reached through `$ref` are
 * checked where they are defined, once each (`visitedDefs` is shared across actions by the caller).
 */
export function findUnbounded(manifestDefs: Readonly<Record<string, JsonSchema>>, schema: JsonSchema, pointer: string, visitedDefs: Set<string>): UnboundedPlace[] {
  const out: UnboundedPlace[] = [];
  const visit = (s: JsonSchema, at: string): void => {
    if (!isPlainObject(s)) return;
    const ref = s["$ref"];
    if (typeof ref === "string") {
      const name = defNameOf(ref);
      if (name !== undefined && !visitedDefs.has(name) && Object.hasOwn(manifestDefs, name)) {
        visitedDefs.add(name);
        visit(manifestDefs[name]!, appendPointer("", "$defs", name));
      }
    }
    const enumerated = Object.hasOwn(s, "enum") || Object.hasOwn(s, "const");
    const types = declaredTypes(s);
    if (!enumerated) {
      if (types?.includes("string") && typeof s["maxLength"] !== "number" && !BOUNDED_FORMATS.has(String(s["format"]))) {
        out.push({ pointer: at, message: "string without maxLength (or enum, const or format date-time): every input must be bounded" });
      }
      if (types?.includes("array") && typeof s["maxItems"] !== "number") {
        out.push({ pointer: at, message: "array without maxItems: every input must be bounded" });
      }
      if (types?.includes("object") && isFreeForm(s) && typeof s["maxProperties"] !== "number") {
        out.push({ pointer: at, message: "free-form object without maxProperties: every input must be bounded" });
      }
      const composed = ["$ref", "anyOf", "oneOf", "allOf"].some((k) => Object.hasOwn(s, k));
      if (types === undefined && !composed && typeof s[X_MAX_JSON_BYTES] !== "number") {
        out.push({ pointer: at, message: `value of any type without ${X_MAX_JSON_BYTES}: every input must be bounded` });
      }
    }
    for (const keyword of ["items", "additionalProperties", "not"] as const) {
      const sub = s[keyword];
      if (isSchema(sub)) visit(sub, appendPointer(at, keyword));
    }
    for (const keyword of ["properties", "patternProperties"] as const) {
      const map = s[keyword];
      if (isPlainObject(map)) for (const [name, sub] of Object.entries(map)) if (isSchema(sub)) visit(sub, appendPointer(at, keyword, name));
    }
    for (const keyword of ["anyOf", "oneOf", "allOf", "prefixItems"] as const) {
      const list = s[keyword];
      if (Array.isArray(list)) list.forEach((sub, i) => isSchema(sub) && visit(sub, appendPointer(at, keyword, i)));
    }
  };
  visit(schema, pointer);
  return out;
}

/** An object whose keys are not all declared: `additionalProperties` absent, `true` or a schema, or pattern keys. */
function isFreeForm(s: Record<string, unknown>): boolean {
  return s["additionalProperties"] !== false || Object.hasOwn(s, "patternProperties");
}
