import { canonicalJson } from "./canonical-json";
import { clampLimit, containsTerms, decodeCursor, firstOf, type CatalogueQuery, type CataloguePage } from "./catalogue";
import { deepFreeze } from "./compile-actions";
import { compileTriggers, type CompiledTrigger, type TriggerFilter } from "./compile-triggers";
import type { Ajv } from "./ajv";
import { getAtPointer, isPlainObject } from "./json-pointer";
import { PLATFORM_INTEGRATION, PLATFORM_TRIGGERS } from "./platform-triggers";
import { formatProblem, ProblemList } from "./problems";
import { checkSchemaShape } from "./semantic-checks";
import { checkTriggers } from "./trigger-checks";
import type { JsonSchema, TriggerSource } from "./types";

/** A trigger as lists show it. */
export interface TriggerSummary {
  readonly slug: string;
  readonly integration: string;
  readonly name: string;
  readonly description: string;
  readonly group: string | null;
}

/** The public view of a trigger (`GET /v1/triggers/:slug`; TRIGGER-FORMAT.md `getTrigger`). */
export interface TriggerDef extends TriggerSummary {
  readonly source: TriggerSource;
  /** The JSON Schema of the event's `data`, bundled (standalone: carries the `$defs` it reaches). */
  readonly payload_schema: JsonSchema;
  /** Valid payloads; the first is what "send test event" sends. */
  readonly examples: readonly Readonly<Record<string, unknown>>[];
  readonly filters: Readonly<Record<string, TriggerFilter>>;
  /** The current payload schema version, known once `syncSchemaVersions` ran; `null` before. */
  readonly schema_version: number | null;
}

export type ListTriggersQuery = CatalogueQuery;

export interface TriggerPage extends CataloguePage {
  readonly triggers: readonly TriggerSummary[];
}

const PLATFORM_FILE = "<platform triggers>";

/**
 * The platform's own triggers (`platform-triggers.ts`), checked and compiled like a manifest's. A problem is a bug
 * in this package: it throws with every problem listed.
 */
export function compilePlatformTriggers(ajv: Ajv): CompiledTrigger[] {
  const holder = { $defs: {}, triggers: PLATFORM_TRIGGERS };
  const problems = new ProblemList(PLATFORM_FILE, holder);
  PLATFORM_TRIGGERS.forEach((trigger, i) => {
    checkSchemaShape(holder, trigger.payload, `/triggers/${i}/payload`, problems);
    for (const [name, filter] of Object.entries(trigger.filters)) checkSchemaShape(holder, filter.schema, `/triggers/${i}/filters/${name}/schema`, problems);
  });
  checkTriggers(holder, problems, new Set(), { platform: true });
  const compiled = compileTriggers(PLATFORM_FILE, PLATFORM_INTEGRATION, PLATFORM_TRIGGERS, {}, ajv);
  const all = [...problems.items, ...compiled.problems];
  if (all.length > 0) throw new Error(`Invalid platform triggers:\n${all.map((p) => `  - ${formatProblem(p)}`).join("\n")}`);
  for (const trigger of compiled.triggers) {
    deepFreeze(trigger.payloadSchema);
    deepFreeze(trigger.filters);
  }
  return compiled.triggers;
}

export function summarizeTrigger(trigger: CompiledTrigger): TriggerSummary {
  const m = trigger.manifest;
  return { slug: m.slug, integration: trigger.integration, name: m.name, description: m.description, group: m.group ?? null };
}

/**
 * One page of triggers, ordered by slug, keeping those whose slug, name or description contain every word of `q`
 * (slugs read as words too). The cursor is the last slug of the page (the encoding `listActions` uses).
 */
export function pageTriggers(all: readonly CompiledTrigger[], query: ListTriggersQuery): TriggerPage {
  const limit = clampLimit(query.limit);
  const after = query.cursor === undefined || query.cursor === "" ? undefined : decodeCursor(query.cursor);
  const terms = (query.q ?? "").slice(0, 200).toLowerCase().split(/\s+/).filter(Boolean);
  const matches = all
    .filter((t) => query.integration === undefined || t.integration === query.integration)
    .filter((t) => after === undefined || t.manifest.slug > after)
    .filter((t) => containsTerms(t.manifest, terms))
    .sort((a, b) => (a.manifest.slug < b.manifest.slug ? -1 : 1));
  const { page, next_cursor } = firstOf(matches, limit);
  return { triggers: page.map(summarizeTrigger), next_cursor };
}

/**
 * Whether an event's `data` passes a subscription filter: every filter given must match (AND); `{}` matches every
 * event. `equal`: the value at the filter's path is equal (as JSON) to the filter value. `any`: the value at the
 * path is an array sharing at least one item with the filter's array (so `[]` matches nothing). A value absent
 * from the data never matches, and neither does a filter name the trigger does not have.
 */
export function matchFilter(trigger: CompiledTrigger, filter: unknown, data: unknown): boolean {
  if (!isPlainObject(filter)) return false;
  for (const [name, wanted] of Object.entries(filter)) {
    const spec = trigger.filters[name];
    if (spec === undefined) return false;
    const actual = getAtPointer(data, spec.path);
    if (actual === undefined) return false;
    if (spec.match === "any") {
      if (!Array.isArray(actual) || !Array.isArray(wanted)) return false;
      const have = new Set(actual.map(key));
      if (!wanted.some((w) => have.has(key(w)))) return false;
    } else if (key(actual) !== key(wanted)) {
      return false;
    }
  }
  return true;
}

/** What two values compare by: scalars as they are (typed, so "1" and 1 differ), anything else as canonical JSON. */
function key(value: unknown): unknown {
  return value === null || typeof value !== "object" ? value : `\u0000${canonicalJson(value)}`;
}
