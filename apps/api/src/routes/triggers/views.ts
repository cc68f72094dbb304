import type { TriggerDef, TriggerSummary } from "@nagent/registry";

// Responses pick their fields: what the registry returns may grow without leaking into the API.

export function triggerSummary(t: TriggerSummary) {
  return { slug: t.slug, integration: t.integration, name: t.name, description: t.description, group: t.group };
}

export function triggerDetail(t: TriggerDef) {
  return {
    ...triggerSummary(t),
    source: t.source,
    payload_schema: t.payload_schema as Record<string, unknown>,
    examples: t.examples.map((e) => ({ ...e })),
    filters: Object.fromEntries(Object.entries(t.filters).map(([name, f]) => [name, { description: f.description, schema: f.schema as Record<string, unknown>, path: f.path, match: f.match }])),
    schema_version: t.schema_version,
  };
}
