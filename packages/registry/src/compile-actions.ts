import type { ValidateFunction } from "ajv";
import { createSchemaAjv, type Ajv } from "./ajv";
import { bundleSchema } from "./bundle";
import { contentHash } from "./canonical-json";
import { formatAjvErrors } from "./format-errors";
import { appendPointer } from "./json-pointer";
import { compileTriggers, type CompiledTrigger } from "./compile-triggers";
import type { ActionManifest, IntegrationManifest, JsonSchema, ManifestProblem } from "./types";

/** An action ready to serve: its manifest entry, bundled schemas, compiled validators and content hash. */
export interface CompiledAction {
  readonly integration: IntegrationManifest;
  readonly manifest: ActionManifest;
  /** The input schema with only the `$defs` it reaches: what the API serves and what is versioned. */
  readonly inputSchema: JsonSchema;
  readonly outputSchema: JsonSchema;
  readonly validateInput: ValidateFunction;
  readonly validateOutput: ValidateFunction;
  /** SHA-256 of the canonical JSON of `{input, output}` (bundled): the schema version's identity. */
  readonly contentHash: string;
}

export interface CompiledIntegration {
  readonly file: string;
  readonly manifest: IntegrationManifest;
  readonly validateCredentials: ValidateFunction;
}

/**
 * Compiles every action's input and output validator once (one ajv instance for the whole registry) and checks
 * each input example against its own schema; the same for every trigger's payload and filters (`compileTriggers`).
 * Strict-mode refusals and failing examples become problems.
 */
export function compileIntegrations(loaded: readonly { file: string; manifest: IntegrationManifest }[], ajv: Ajv = createSchemaAjv()) {
  const problems: ManifestProblem[] = [];
  const actions: CompiledAction[] = [];
  const triggers: CompiledTrigger[] = [];
  const integrations: CompiledIntegration[] = [];
  for (const { file, manifest } of loaded) {
    const defs = manifest.$defs ?? {};
    const compile = (schema: JsonSchema, pointer: string, action?: string): ValidateFunction | undefined => {
      try {
        return ajv.compile(schema);
      } catch (error) {
        problems.push({ file, ...(action === undefined ? {} : { action }), pointer, message: `schema does not compile: ${(error as Error).message}` });
        return undefined;
      }
    };
    const validateCredentials = compile(manifest.auth.credentials, "/auth/credentials");
    if (validateCredentials !== undefined) integrations.push({ file, manifest, validateCredentials });
    manifest.actions.forEach((action, index) => {
      const at = appendPointer("", "actions", index);
      const inputSchema = bundleSchema(action.input, defs);
      const outputSchema = bundleSchema(action.output, defs);
      const validateInput = compile(inputSchema, `${at}/input`, action.slug);
      const validateOutput = compile(outputSchema, `${at}/output`, action.slug);
      if (validateInput === undefined || validateOutput === undefined) return;
      const examples = Array.isArray(action.input["examples"]) ? (action.input["examples"] as unknown[]) : [];
      examples.forEach((example, i) => {
        if (validateInput(example)) return;
        for (const issue of formatAjvErrors(validateInput.errors, "example")) {
          problems.push({ file, action: action.slug, pointer: appendPointer(at, "input", "examples", i) + issue.path, message: `example does not match the input schema: ${issue.message}` });
        }
      });
      actions.push({ integration: manifest, manifest: action, inputSchema, outputSchema, validateInput, validateOutput, contentHash: contentHash({ input: inputSchema, output: outputSchema }) });
    });
    const compiled = compileTriggers(file, manifest.slug, manifest.triggers ?? [], defs, ajv);
    triggers.push(...compiled.triggers);
    problems.push(...compiled.problems);
  }
  // What the registry hands out (schemas, run specs) is shared by every request: frozen, no caller can alter it.
  for (const { manifest } of loaded) deepFreeze(manifest);
  for (const action of actions) {
    deepFreeze(action.inputSchema);
    deepFreeze(action.outputSchema);
  }
  for (const trigger of triggers) {
    deepFreeze(trigger.payloadSchema);
    deepFreeze(trigger.filters);
  }
  return { actions, triggers, integrations, problems };
}

export function deepFreeze(value: unknown): void {
  if (typeof value !== "object" || value === null || Object.isFrozen(value)) return;
  Object.freeze(value);
  for (const child of Object.values(value)) deepFreeze(child);
}
