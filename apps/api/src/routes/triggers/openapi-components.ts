import type { Registry } from "@nagent/registry";
import { COMPONENTS, rewriteRefs } from "../actions/openapi-components";

interface OpenApiDocument {
  components?: { schemas?: Record<string, unknown> } & Record<string, unknown>;
  paths?: Record<string, Record<string, unknown>>;
}

/** The component name of a trigger's payload schema (trigger slugs are `^[A-Z][A-Z0-9_]+$`, valid names). */
export function triggerSchemaName(slug: string): string {
  return `${slug}.payload`;
}

/**
 * Adds every trigger's payload schema (the event's `data`) to `components.schemas` as `<SLUG>.payload`, with the
 * manifest definitions it uses hoisted as `<integration>.<Def>` (the components the action schemas share), and
 * points GET /v1/triggers/{slug} at them. Runs on the finished document, like `addActionSchemas`.
 */
export function addTriggerSchemas<T extends OpenApiDocument>(doc: T, registry: Registry): T {
  const schemas: Record<string, unknown> = { ...(doc.components?.schemas ?? {}) };
  const slugs: string[] = [];
  for (const summary of registry.listTriggers()) {
    const trigger = registry.getTrigger(summary.slug);
    if (trigger === undefined) continue;
    slugs.push(trigger.slug);
    const schema = trigger.payload_schema;
    const defs = isObject(schema) && isObject(schema["$defs"]) ? schema["$defs"] : {};
    const names = new Map(Object.keys(defs).map((def) => [def, `${trigger.integration}.${def}`]));
    for (const [def, content] of Object.entries(defs)) schemas[names.get(def)!] = rewriteRefs(content, names, `${COMPONENTS}${names.get(def)!}`);
    const name = triggerSchemaName(trigger.slug);
    schemas[name] = rewriteRefs(isObject(schema) ? without(schema, "$defs") : schema, names, `${COMPONENTS}${name}`);
  }
  const get = doc.paths?.["/v1/triggers/{slug}"]?.["get"] as { description?: string } | undefined;
  if (get !== undefined) {
    const links = slugs.map((slug) => `- \`${slug}\`: [payload](${COMPONENTS}${triggerSchemaName(slug)}) (the event's \`data\`)`);
    get.description = [get.description ?? "", "Each trigger's payload schema is in `components.schemas` as `<TRIGGER>.payload`:", ...links].join("\n\n");
  }
  return { ...doc, components: { ...(doc.components ?? {}), schemas } };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function without(object: Record<string, unknown>, key: string): Record<string, unknown> {
  const { [key]: _dropped, ...rest } = object;
  return rest;
}
