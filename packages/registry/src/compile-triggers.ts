import type { ValidateFunction } from "ajv";
import type { Ajv } from "./ajv";
import { bundleSchema } from "./bundle";
import { contentHash } from "./canonical-json";
import { formatAjvErrors } from "./format-errors";
import { appendPointer } from "./json-pointer";
import type { JsonSchema, JsonSchemaObject, ManifestProblem, TriggerManifest, TriggerSource } from "./types";

/** A trigger filter as the registry serves it: its schema bundled (standalone) and `match` made explicit. */
export interface TriggerFilter {
  readonly description: string;
  readonly schema: JsonSchema;
  readonly path: string;
  readonly match: "equal" | "any";
}

/** A trigger ready to serve: bundled payload schema, compiled validators and the payload's content hash. */
export interface CompiledTrigger {
  /** The integration slug (`nagent` for platform triggers). */
  readonly integration: string;
  readonly manifest: TriggerManifest;
  readonly source: TriggerSource;
  /** The payload schema with only the `$defs` it reaches: what the API serves and what is versioned. */
  readonly payloadSchema: JsonSchema;
  readonly filters: Readonly<Record<string, TriggerFilter>>;
  readonly validatePayload: ValidateFunction;
  /** Validates a whole subscription filter: an object of filter name → value, unknown names refused. */
  readonly validateFilter: ValidateFunction;
  /** SHA-256 of the canonical JSON of `{payload}` (bundled): the payload schema version's identity. */
  readonly contentHash: string;
}

/** The JSON Schema of a subscription filter for these filters: a closed object, each filter optional. */
export function filterObjectSchema(filters: Readonly<Record<string, { readonly schema: JsonSchema; readonly description: string }>>): JsonSchemaObject {
  return {
    type: "object",
    additionalProperties: false,
    properties: Object.fromEntries(Object.entries(filters).map(([name, f]) => [name, f.schema])),
  };
}

/**
 * Compiles the payload and filter validators of one manifest's triggers with the registry's ajv instance and checks
 * every example against its payload schema. Strict-mode refusals and failing examples become problems (pointing
 * into `triggers`); a trigger with any is left out.
 */
export function compileTriggers(
  file: string,
  integration: string,
  triggers: readonly TriggerManifest[],
  defs: Readonly<Record<string, JsonSchema>>,
  ajv: Ajv,
): { triggers: CompiledTrigger[]; problems: ManifestProblem[] } {
  const problems: ManifestProblem[] = [];
  const out: CompiledTrigger[] = [];
  triggers.forEach((trigger, index) => {
    const at = appendPointer("", "triggers", index);
    const before = problems.length;
    const compile = (schema: JsonSchema, pointer: string): ValidateFunction | undefined => {
      try {
        return ajv.compile(schema);
      } catch (error) {
        problems.push({ file, trigger: trigger.slug, pointer, message: `schema does not compile: ${(error as Error).message}` });
        return undefined;
      }
    };
    const payloadSchema = bundleSchema(trigger.payload, defs);
    const validatePayload = compile(payloadSchema, `${at}/payload`);
    const filters: Record<string, TriggerFilter> = {};
    for (const [name, spec] of Object.entries(trigger.filters)) {
      const schema = bundleSchema(spec.schema, defs);
      if (compile(schema, appendPointer(at, "filters", name, "schema")) === undefined) continue;
      filters[name] = { description: spec.description, schema, path: spec.path, match: spec.match ?? "equal" };
    }
    const validateFilter = problems.length === before ? compile(bundleSchema(filterObjectSchema(trigger.filters), defs), `${at}/filters`) : undefined;
    if (validatePayload !== undefined) {
      trigger.examples.forEach((example, i) => {
        if (validatePayload(example)) return;
        for (const issue of formatAjvErrors(validatePayload.errors, "example")) {
          problems.push({ file, trigger: trigger.slug, pointer: appendPointer(at, "examples", i) + issue.path, message: `example does not match the payload schema: ${issue.message}` });
        }
      });
    }
    if (validatePayload === undefined || validateFilter === undefined || problems.length > before) return;
    out.push({
      integration,
      manifest: trigger,
      source: trigger.source,
      payloadSchema,
      filters,
      validatePayload,
      validateFilter,
      contentHash: contentHash({ payload: payloadSchema }),
    });
  });
  return { triggers: out, problems };
}
