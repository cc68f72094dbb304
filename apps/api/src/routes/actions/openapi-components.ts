import type { Registry } from "@nagent/registry";

/** The parts of the OpenAPI document this module reads and extends. */
interface OpenApiDocument {
  components?: { schemas?: Record<string, unknown> } & Record<string, unknown>;
  paths?: Record<string, Record<string, unknown>>;
}

export const COMPONENTS = "#/components/schemas/";
/** Keywords whose values are data, not schemas: a `$ref` inside them is not a reference. */
const DATA_KEYWORDS = new Set(["examples", "default", "const", "enum"]);
/** Keywords whose values map names to schemas. */
const NAMED_SCHEMAS = new Set(["properties", "patternProperties", "$defs", "definitions", "dependentSchemas"]);

/** The component name of an action's input or output schema (action slugs are `^[A-Z][A-Z0-9_]+$`, valid names). */
export function actionSchemaName(slug: string, role: "input" | "output"): string {
  return `${slug}.${role}`;
}

/**
 * Adds every action's input and output schema to `components.schemas` (`<SLUG>.input`, `<SLUG>.output`) and points
 * the execute operation's description at them, so that a client generator or a reader finds each action's schema
 * from `/openapi.json` alone. Runs on the finished document (swagger's `transformObject`) so that the schemas go in
 * exactly as the registry serves them, not through the route-schema conversion.
 *
 * A bundled schema carries the manifest definitions it uses in `$defs`, referenced as `#/$defs/Batch`; inside the
 * document such a reference would resolve against the document root. So the definitions become components of
 * their own, named by integration (`scale_ai.Batch`, shared by every action that uses it), and the references are
 * rewritten to them. Hoisting rather than pointing into the component's own `$defs` matters: many OpenAPI tools
 * replace an object holding `$ref` by its target (OpenAPI 3.0's rule), which would drop a sibling `$defs`.
 */
export function addActionSchemas<T extends OpenApiDocument>(doc: T, registry: Registry): T {
  const schemas: Record<string, unknown> = { ...(doc.components?.schemas ?? {}) };
  const slugs: string[] = [];
  for (const integration of registry.listIntegrations()) {
    for (const summary of registry.getIntegration(integration.slug)?.actions ?? []) {
      const action = registry.getAction(summary.slug);
      if (action === undefined) continue;
      slugs.push(action.slug);
      for (const [role, schema] of [["input", action.input_schema], ["output", action.output_schema]] as const) {
        const name = actionSchemaName(action.slug, role);
        const defs = isObject(schema) && isObject(schema["$defs"]) ? schema["$defs"] : {};
        // A bundled schema's `$defs` are copies of its manifest's top-level `$defs` (the format allows no local
        // ones), so one name within an integration is one definition, whichever action carries it.
        const names = new Map(Object.keys(defs).map((def) => [def, `${integration.slug}.${def}`]));
        for (const [def, content] of Object.entries(defs)) schemas[names.get(def)!] = rewriteRefs(content, names, `${COMPONENTS}${names.get(def)!}`);
        schemas[name] = rewriteRefs(isObject(schema) ? without(schema, "$defs") : schema, names, `${COMPONENTS}${name}`);
      }
    }
  }
  const execute = doc.paths?.["/v1/actions/{slug}/execute"]?.["post"] as { description?: string } | undefined;
  if (execute !== undefined) {
    const links = slugs.map((slug) => `- \`${slug}\`: [input](${COMPONENTS}${actionSchemaName(slug, "input")}), [output](${COMPONENTS}${actionSchemaName(slug, "output")}) (the envelope's \`data\`)`);
    execute.description = [execute.description ?? "", "Each action's schemas are in `components.schemas` as `<ACTION>.input` and `<ACTION>.output`:", ...links].join("\n\n");
  }
  return { ...doc, components: { ...(doc.components ?? {}), schemas } };
}

/**
 * A copy of `schema` with its local references rewritten: `#/$defs/<def>…` to the hoisted component of `<def>`,
 * any other `#…` (which the manifest format does not produce) under `self`, the component the schema becomes.
 */
export function rewriteRefs(schema: unknown, defs: ReadonlyMap<string, string>, self: string): unknown {
  const target = (ref: string): string => {
    const match = /^#\/\$defs\/([^/]+)(.*)$/.exec(ref);
    const def = match === null ? undefined : defs.get(decodeURIComponent(match[1]!).replace(/~1/g, "/").replace(/~0/g, "~"));
    return def !== undefined ? `${COMPONENTS}${def}${match![2]!}` : `${self}${ref.slice(1)}`;
  };
  const walk = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(walk);
    if (!isObject(node)) return node;
    return Object.fromEntries(
      Object.entries(node).map(([key, value]) => {
        if (key === "$ref" && typeof value === "string" && value.startsWith("#")) return [key, target(value)];
        if (DATA_KEYWORDS.has(key)) return [key, structuredClone(value)];
        // Under these the keys are names (a property may be called "default"): each value is a schema.
        if (NAMED_SCHEMAS.has(key) && isObject(value)) return [key, Object.fromEntries(Object.entries(value).map(([n, sub]) => [n, walk(sub)]))];
        return [key, walk(value)];
      }),
    );
  };
  return walk(schema);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function without(object: Record<string, unknown>, key: string): Record<string, unknown> {
  const { [key]: _dropped, ...rest } = object;
  return rest;
}
