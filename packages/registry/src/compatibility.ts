import { canonicalJson } from "./canonical-json";
import { appendPointer, isPlainObject } from "./json-pointer";
import { ANNOTATIONS, deref, refOf, JSON_TYPES, type JsonType } from "./schema-walk";
import type { JsonSchema, JsonSchemaObject } from "./types";

/**
 * Compatibility of a new schema version with the one before, in the spirit of Confluent Schema Registry, from the
 * point of view of the callers of an action:
 *
 * - **input** (what callers send, what we validate): `backward` when every input valid under the old schema is
 *   still valid under the new one (existing callers keep working; the accepted set grew or stayed); `forward` when
 *   every input valid under the new schema was valid under the old one (callers written for the new version also
 *   work against the old one, e.g. after a rollback; the accepted set shrank).
 * - **output** (what callers read): `backward` when every output the new version produces was valid under the old
 *   output schema (existing readers keep working; the set shrank or stayed); `forward` when every output of the old
 *   version is valid under the new schema (readers written for the new version can read old data; the set grew).
 * - `full` is both; `breaking` is neither (or a change whose effect cannot be told: classified conservatively).
 *
 * For an action (input and output together) the version is `full` when both are, `backward` when both are at
 * least backward, `forward` when both are at least forward, and `breaking` otherwise. So, with closed inputs
 * (`additionalProperties: false`): an optional input property added is `backward`; a required input property
 * added is `breaking` (old callers do not send it, and the old schema refused it); an input property removed, a
 * type narrowed, an enum value removed or a bound tightened is `forward` (existing callers that used it break:
 * only a rollback is safe); an output property that may now be absent or change type is `forward` or `breaking`.
 */
export type Compatibility = "full" | "backward" | "forward" | "breaking";

/** What a change does to the set of values a schema accepts. `none`: an annotation only (description, title…). */
export type ChangeDirection = "widened" | "narrowed" | "changed" | "none";

export interface SchemaChange {
  /** JSON pointer to the place in the schema (`/input/properties/name`); the new schema's place, or the old one's for a removal. */
  readonly path: string;
  readonly kind: string;
  readonly message: string;
  readonly direction: ChangeDirection;
  /** What this change alone means for callers (see `Compatibility`). */
  readonly compatibility: Compatibility;
}

export interface Classification {
  readonly compatibility: Compatibility;
  readonly changes: readonly SchemaChange[];
}

export type SchemaRole = "input" | "output";

/** Classifies a change of one schema in its role (see `Compatibility` for the two directions). Pure. */
export function classifySchemaChange(oldSchema: JsonSchema, newSchema: JsonSchema, role: SchemaRole, pathPrefix = ""): Classification {
  const raw = diffSchemas(oldSchema, newSchema);
  const changes = raw.map((c) => ({ ...c, path: pathPrefix + c.path, compatibility: effectOf(c.direction, role) }));
  return { compatibility: combine(changes.map((c) => c.compatibility)), changes };
}

/** Classifies a new (input, output) pair of an action against the previous one. Pure. */
export function classifyActionChange(previous: { input: JsonSchema; output: JsonSchema }, next: { input: JsonSchema; output: JsonSchema }): Classification {
  const input = classifySchemaChange(previous.input, next.input, "input", "/input");
  const output = classifySchemaChange(previous.output, next.output, "output", "/output");
  return { compatibility: combine([input.compatibility, output.compatibility]), changes: [...input.changes, ...output.changes] };
}

/**
 * Classifies a new payload schema of a trigger against the previous one, from the subscribers' side: they read
 * events, so the payload is judged as an output (`/payload/...` paths). `backward`: every event of the new version
 * was valid under the old schema, existing subscribers keep working (a field added, even required, to an open
 * payload; an enum value removed). `forward`: old events are valid under the new schema but new events may not be
 * valid under the old one, so existing subscribers may break (a field removed or no longer required, an enum value
 * added); `breaking`: neither. Pure.
 */
export function classifyTriggerChange(previous: JsonSchema, next: JsonSchema): Classification {
  return classifySchemaChange(previous, next, "output", "/payload");
}

function effectOf(direction: ChangeDirection, role: SchemaRole): Compatibility {
  if (direction === "none") return "full";
  if (direction === "changed") return "breaking";
  const widened = direction === "widened";
  return role === "input" ? (widened ? "backward" : "forward") : widened ? "forward" : "backward";
}

/** The weakest guarantee all of `parts` give together. */
export function combine(parts: readonly Compatibility[]): Compatibility {
  let backward = true;
  let forward = true;
  for (const p of parts) {
    if (p === "breaking" || p === "forward") backward = false;
    if (p === "breaking" || p === "backward") forward = false;
  }
  return backward && forward ? "full" : backward ? "backward" : forward ? "forward" : "breaking";
}

type RawChange = Omit<SchemaChange, "compatibility">;

const MAX_BOUNDS = ["maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties", "maxContains", "x-max-json-bytes"] as const;
const MIN_BOUNDS = ["minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties", "minContains"] as const;
/** Keywords this module understands; any other keyword that differs is a change it cannot judge (breaking). */
const HANDLED = new Set<string>([
  ...MAX_BOUNDS,
  ...MIN_BOUNDS,
  ...["type", "enum", "const", "multipleOf", "pattern", "format", "uniqueItems", "properties", "required", "additionalProperties"],
  ...["items", "anyOf", "oneOf", "allOf", "$ref", "$defs"],
  ...ANNOTATIONS,
]);

/** The differences between two schemas, each with its effect on the set of accepted values. Pure. */
export function diffSchemas(oldSchema: JsonSchema, newSchema: JsonSchema): RawChange[] {
  const out: RawChange[] = [];
  const seen = new Set<string>();
  const same = (a: unknown, b: unknown): boolean => canonicalJson(a) === canonicalJson(b);
  const add = (path: string, kind: string, direction: ChangeDirection, message: string): void => void out.push({ path, kind, message, direction });

  const compare = (a0: JsonSchema, b0: JsonSchema, path: string, depth: number): void => {
    const refKey = `${refOf(a0) ?? ""}|${refOf(b0) ?? ""}`;
    // Each pair of referenced definitions is compared once: enough to report its changes, and it ends cycles.
    if (refKey !== "|") {
      if (seen.has(refKey)) return;
      seen.add(refKey);
    }
    const a = toObject(deref(oldSchema, a0));
    const b = toObject(deref(newSchema, b0));
    if (same(a, b)) return;
    if (depth > 64) return add(path, "too_deep", "changed", "the schemas nest too deeply to compare");

    // false (nothing valid) is `{not: {}}` after toObject.
    if (!same(a["not"], b["not"]) && (isNothing(a) || isNothing(b))) {
      return add(path, isNothing(a) ? "opened" : "closed", isNothing(a) ? "widened" : "narrowed", isNothing(a) ? "now accepts values where it accepted none" : "no longer accepts any value");
    }

    compareTypes(a, b, path);
    compareEnums(a, b, path);
    for (const k of MAX_BOUNDS) compareBound(a[k], b[k], path, k, "max");
    for (const k of MIN_BOUNDS) compareBound(a[k], b[k], path, k, "min");
    compareMultipleOf(a["multipleOf"], b["multipleOf"], path);
    for (const k of ["pattern", "format"] as const) {
      if (same(a[k], b[k])) continue;
      if (a[k] === undefined) add(path, `${k}_added`, "narrowed", `${k} ${JSON.stringify(b[k])} added`);
      else if (b[k] === undefined) add(path, `${k}_removed`, "widened", `${k} ${JSON.stringify(a[k])} removed`);
      else add(path, `${k}_changed`, "changed", `${k} changed from ${JSON.stringify(a[k])} to ${JSON.stringify(b[k])}`);
    }
    if (Boolean(a["uniqueItems"]) !== Boolean(b["uniqueItems"])) {
      add(path, "unique_items", b["uniqueItems"] ? "narrowed" : "widened", b["uniqueItems"] ? "items must now be unique" : "items no longer need to be unique");
    }
    compareObject(a, b, path, depth);
    if (a["items"] !== undefined || b["items"] !== undefined) compare(schemaOr(a["items"]), schemaOr(b["items"]), appendPointer(path, "items"), depth + 1);
    for (const k of ["anyOf", "oneOf", "allOf"] as const) compareBranches(a[k], b[k], path, k, depth);
    for (const k of ANNOTATIONS) {
      if (!same(a[k], b[k])) add(appendPointer(path, k), "annotation", "none", `${k} changed`);
    }
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
      if (HANDLED.has(k) || same(a[k], b[k])) continue;
      add(appendPointer(path, k), "unknown", "changed", `${k} changed (its effect cannot be told: treated as breaking)`);
    }
  };

  const compareTypes = (a: JsonSchemaObject, b: JsonSchemaObject, path: string): void => {
    const ta = typeSet(a["type"]);
    const tb = typeSet(b["type"]);
    if (sameSet(ta, tb)) return;
    const from = typeName(a["type"]);
    const to = typeName(b["type"]);
    if (isSubset(ta, tb)) add(path, "type_widened", "widened", `type widened from ${from} to ${to}`);
    else if (isSubset(tb, ta)) add(path, "type_narrowed", "narrowed", `type narrowed from ${from} to ${to}`);
    else add(path, "type_changed", "changed", `type changed from ${from} to ${to}`);
  };

  const compareEnums = (a: JsonSchemaObject, b: JsonSchemaObject, path: string): void => {
    const ea = enumValues(a);
    const eb = enumValues(b);
    if (ea === undefined && eb === undefined) return;
    if (ea === undefined) return add(path, "enum_added", "narrowed", `values restricted to ${[...eb!].join(", ")}`);
    if (eb === undefined) return add(path, "enum_removed", "widened", "values no longer restricted to a list");
    const removed = [...ea].filter((v) => !eb.has(v));
    const added = [...eb].filter((v) => !ea.has(v));
    if (removed.length > 0) add(path, "enum_value_removed", "narrowed", `value${removed.length > 1 ? "s" : ""} ${removed.join(", ")} removed`);
    if (added.length > 0) add(path, "enum_value_added", "widened", `value${added.length > 1 ? "s" : ""} ${added.join(", ")} added`);
  };

  const compareBound = (va: unknown, vb: unknown, path: string, keyword: string, kind: "max" | "min"): void => {
    if (va === vb) return;
    const na = typeof va === "number" ? va : undefined;
    const nb = typeof vb === "number" ? vb : undefined;
    const tighter = na === undefined ? true : nb === undefined ? false : kind === "max" ? nb < na : nb > na;
    add(path, tighter ? "bound_tightened" : "bound_loosened", tighter ? "narrowed" : "widened", na === undefined ? `${keyword} ${nb} added` : nb === undefined ? `${keyword} ${na} removed` : `${keyword} ${tighter ? "tightened" : "loosened"} from ${na} to ${nb}`);
  };

  const compareMultipleOf = (va: unknown, vb: unknown, path: string): void => {
    if (va === vb) return;
    if (typeof va !== "number") return add(path, "multiple_of_added", "narrowed", `multipleOf ${String(vb)} added`);
    if (typeof vb !== "number") return add(path, "multiple_of_removed", "widened", `multipleOf ${va} removed`);
    if (Number.isInteger(va / vb)) add(path, "bound_loosened", "widened", `multipleOf loosened from ${va} to ${vb}`);
    else if (Number.isInteger(vb / va)) add(path, "bound_tightened", "narrowed", `multipleOf tightened from ${va} to ${vb}`);
    else add(path, "multiple_of_changed", "changed", `multipleOf changed from ${va} to ${vb}`);
  };

  const compareObject = (a: JsonSchemaObject, b: JsonSchemaObject, path: string, depth: number): void => {
    const pa = isPlainObject(a["properties"]) ? (a["properties"] as Record<string, JsonSchema>) : {};
    const pb = isPlainObject(b["properties"]) ? (b["properties"] as Record<string, JsonSchema>) : {};
    const apA = schemaOr(a["additionalProperties"]);
    const apB = schemaOr(b["additionalProperties"]);
    for (const key of new Set([...Object.keys(pa), ...Object.keys(pb)])) {
      const at = appendPointer(path, "properties", key);
      if (Object.hasOwn(pa, key) && Object.hasOwn(pb, key)) compare(pa[key]!, pb[key]!, at, depth + 1);
      else if (Object.hasOwn(pa, key)) {
        // The key is now governed by additionalProperties.
        if (apB === false) add(at, "property_removed", "narrowed", `property "${key}" removed (no longer accepted)`);
        else if (apB === true) add(at, "property_removed", "widened", `property "${key}" removed (no longer described: any value)`);
        else compare(pa[key]!, apB, at, depth + 1);
      } else {
        const added = pb[key]!;
        if (apA === false) add(at, "property_added", "widened", `property "${key}" added`);
        else if (apA === true) {
          if (!isAnything(added)) add(at, "property_added", "narrowed", `property "${key}" added (it could hold any value before)`);
        } else compare(apA, added, at, depth + 1);
      }
    }
    const ra = new Set(Array.isArray(a["required"]) ? (a["required"] as string[]) : []);
    const rb = new Set(Array.isArray(b["required"]) ? (b["required"] as string[]) : []);
    for (const key of rb) if (!ra.has(key)) add(appendPointer(path, "properties", key), "required_added", "narrowed", `property "${key}" is now required`);
    for (const key of ra) if (!rb.has(key)) add(appendPointer(path, "properties", key), "required_removed", "widened", `property "${key}" is no longer required`);
    if (!same(apA, apB)) {
      const at = appendPointer(path, "additionalProperties");
      if (apA === false && apB === true) add(at, "additional_properties_opened", "widened", "additional properties are now allowed");
      else if (apA === true && apB === false) add(at, "additional_properties_closed", "narrowed", "additional properties are no longer allowed");
      else compare(apA, apB, at, depth + 1);
    }
  };

  const compareBranches = (va: unknown, vb: unknown, path: string, keyword: string, depth: number): void => {
    if (same(va, vb)) return;
    const la = Array.isArray(va) ? (va as JsonSchema[]) : [];
    const lb = Array.isArray(vb) ? (vb as JsonSchema[]) : [];
    const at = appendPointer(path, keyword);
    const inB = la.every((x) => lb.some((y) => same(x, y)));
    const inA = lb.every((y) => la.some((x) => same(x, y)));
    if (keyword !== "allOf" && la.length > 0 && inB) return add(at, "alternatives_added", "widened", `${keyword} gained alternatives`);
    if (keyword !== "allOf" && lb.length > 0 && inA) return add(at, "alternatives_removed", "narrowed", `${keyword} lost alternatives`);
    if (la.length === lb.length && la.length > 0) la.forEach((x, i) => compare(x, lb[i]!, appendPointer(at, i), depth + 1));
    else add(at, "composition_changed", "changed", `${keyword} changed (its effect cannot be told: treated as breaking)`);
  };

  compare(oldSchema, newSchema, "", 0);
  return out;
}

function toObject(schema: JsonSchema): JsonSchemaObject {
  if (schema === true) return {};
  if (schema === false) return { not: {} };
  // $defs only carry what $ref already followed.
  const { $defs: _defs, ...rest } = schema;
  return rest;
}

function schemaOr(value: unknown): JsonSchema {
  return typeof value === "boolean" || isPlainObject(value) ? (value as JsonSchema) : true;
}

function isNothing(s: JsonSchemaObject): boolean {
  return isPlainObject(s["not"]) && Object.keys(s["not"]).length === 0;
}

function isAnything(s: JsonSchema): boolean {
  return s === true || (isPlainObject(s) && Object.keys(s).every((k) => ANNOTATIONS.has(k)));
}

function typeSet(type: unknown): Set<JsonType> {
  if (type === undefined) return new Set(JSON_TYPES);
  const list = (Array.isArray(type) ? type : [type]) as JsonType[];
  const out = new Set<JsonType>(list);
  if (out.has("number")) out.add("integer");
  return out;
}

function typeName(type: unknown): string {
  if (type === undefined) return "any";
  return Array.isArray(type) ? type.join("|") : String(type);
}

function enumValues(s: JsonSchemaObject): Set<string> | undefined {
  if (Object.hasOwn(s, "const")) return new Set([canonicalJson(s["const"])]);
  if (Array.isArray(s["enum"])) return new Set(s["enum"].map(canonicalJson));
  return undefined;
}

function isSubset<T>(a: ReadonlySet<T>, b: ReadonlySet<T>): boolean {
  return [...a].every((x) => b.has(x));
}

function sameSet<T>(a: ReadonlySet<T>, b: ReadonlySet<T>): boolean {
  return a.size === b.size && isSubset(a, b);
}
