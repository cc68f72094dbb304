import { findUnbounded } from "./input-bounds";
import { appendPointer, parsePointer } from "./json-pointer";
import { PLATFORM_TRIGGERS } from "./platform-triggers";
import type { ProblemList } from "./problems";
import { schemaAtPath } from "./schema-path";
import { describeTypes, possibleTypes } from "./schema-types";
import { deref, type JsonType } from "./schema-walk";
import type { JsonSchema, TriggerManifest } from "./types";

const SCALARS: readonly JsonType[] = ["string", "number", "integer", "boolean"];
const PLATFORM_SLUGS: ReadonlySet<string> = new Set(PLATFORM_TRIGGERS.map((t) => t.slug));

/** What the trigger checks read of a manifest (an integration manifest, or the platform's built-in triggers). */
export interface TriggerHolder {
  readonly $defs?: Readonly<Record<string, JsonSchema>> | undefined;
  readonly actions?: readonly { readonly slug: string }[];
  readonly triggers?: readonly TriggerManifest[] | undefined;
}

/**
 * The checks on `triggers` the meta-schema cannot express (FORMAT.md, "Triggers"): slugs unique across actions and
 * triggers and not a platform trigger's; each filter's `path` names a property the payload declares, and the
 * filter's schema fits that property's type (an equality filter is a scalar whose type the property can hold; an
 * `any` filter is an array whose items the property's array items can be); filter schemas are bounded (a
 * subscriber sends them). Schema keywords and `$ref`s are checked with the rest (`checkSchemaShape`); examples
 * against the compiled payload validator.
 */
export function checkTriggers(manifest: TriggerHolder, problems: ProblemList, visitedDefs: Set<string>, options: { readonly platform?: boolean } = {}): void {
  const root: JsonSchema = { $defs: manifest.$defs ?? {} };
  const actionSlugs = new Set((manifest.actions ?? []).map((a) => a.slug));
  const seen = new Map<string, number>();
  (manifest.triggers ?? []).forEach((trigger, index) => {
    const at = appendPointer("", "triggers", index);
    const first = seen.get(trigger.slug);
    if (first !== undefined) problems.add(`${at}/slug`, `duplicate trigger slug ${trigger.slug} (also triggers[${first}])`);
    else seen.set(trigger.slug, index);
    if (actionSlugs.has(trigger.slug)) problems.add(`${at}/slug`, `trigger slug ${trigger.slug} is already an action's slug: actions and triggers share one namespace`);
    if (options.platform !== true && PLATFORM_SLUGS.has(trigger.slug)) problems.add(`${at}/slug`, `trigger slug ${trigger.slug} is a platform trigger's`);
    for (const [name, filter] of Object.entries(trigger.filters)) {
      const fat = appendPointer(at, "filters", name);
      for (const place of findUnbounded(manifest.$defs ?? {}, filter.schema, `${fat}/schema`, visitedDefs)) problems.add(place.pointer, `${place.message.replace("every input must be bounded", "a filter value is a subscriber's input and must be bounded")}`);
      checkFilterPath(root, trigger.payload, filter.path, filter.match ?? "equal", filter.schema, fat, problems);
    }
  });
}

function checkFilterPath(root: JsonSchema, payload: JsonSchema, path: string, match: "equal" | "any", schema: JsonSchema, at: string, problems: ProblemList): void {
  const resolved = schemaAtPath(root, payload, parsePointer(path));
  if (!resolved.ok) {
    problems.add(`${at}/path`, `${path} is not in the payload: ${resolved.reason}`);
    return;
  }
  const property = resolved.found.schema;
  const propertyTypes = possibleTypes(root, property);
  const filterTypes = possibleTypes(root, schema);
  if (match === "equal") {
    if (filterTypes === undefined || filterTypes.size === 0 || ![...filterTypes].every((t) => SCALARS.includes(t))) {
      problems.add(`${at}/schema`, `an equality filter's value must be a string, number, integer or boolean (this one is ${describeTypes(filterTypes)}); use "match": "any" for arrays`);
      return;
    }
    const misfit = propertyTypes === undefined ? [] : [...filterTypes].filter((t) => !propertyTypes.has(t));
    if (misfit.length > 0) problems.add(`${at}/schema`, `the filter is ${describeTypes(filterTypes)}, but ${path} in the payload is ${describeTypes(propertyTypes)}`);
    return;
  }
  if (filterTypes === undefined || [...filterTypes].some((t) => t !== "array")) {
    problems.add(`${at}/schema`, `an "any" filter's value must be an array (this one is ${describeTypes(filterTypes)})`);
    return;
  }
  if (propertyTypes === undefined || !propertyTypes.has("array")) {
    problems.add(`${at}/match`, `"match": "any" needs an array in the payload, and ${path} is ${describeTypes(propertyTypes)}`);
    return;
  }
  const filterItems = possibleTypes(root, itemsOf(root, schema));
  const propertyItems = possibleTypes(root, itemsOf(root, property));
  if (filterItems === undefined || ![...filterItems].every((t) => SCALARS.includes(t))) {
    problems.add(`${at}/schema`, `an "any" filter's items must be strings, numbers, integers or booleans (these are ${describeTypes(filterItems)})`);
    return;
  }
  const misfit = propertyItems === undefined ? [] : [...filterItems].filter((t) => !propertyItems.has(t));
  if (misfit.length > 0) problems.add(`${at}/schema`, `the filter's items are ${describeTypes(filterItems)}, but the items of ${path} in the payload are ${describeTypes(propertyItems)}`);
}

function itemsOf(root: JsonSchema, schema: JsonSchema): JsonSchema {
  const s = deref(root, schema);
  if (typeof s === "boolean") return true;
  const items = s["items"];
  return typeof items === "boolean" || (typeof items === "object" && items !== null && !Array.isArray(items)) ? (items as JsonSchema) : true;
}
