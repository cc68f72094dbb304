import { pageActions, summarizeAction, summarizeIntegration, type ActionPage, type ActionSummary, type IntegrationSummary, type ListActionsQuery } from "./catalogue";
import { createSchemaAjv } from "./ajv";
import type { CompiledAction, CompiledIntegration } from "./compile-actions";
import type { CompiledTrigger } from "./compile-triggers";
import { UnknownActionError, UnknownIntegrationError, UnknownTriggerError } from "./errors";
import { checkFlow, type FlowCheckResult } from "./flow-check";
import { formatAjvErrors, type ValidationIssue } from "./format-errors";
import { isPlainObject } from "./json-pointer";
import { checkManifestDirectory, type LoadOptions } from "./load-manifests";
import { ManifestError } from "./problems";
import { toTool, type ToolDefinition } from "./tool-export";
import { createActionSearch } from "./search";
import { PLATFORM_INTEGRATION } from "./platform-triggers";
import { compilePlatformTriggers, matchFilter, pageTriggers, summarizeTrigger, type ListTriggersQuery, type TriggerDef, type TriggerPage, type TriggerSummary } from "./triggers";
import type { ToolFormat } from "./tool-rules";
import { sensitivePaths, type SensitivePath } from "./sensitive";
import type { ActionManifest, AuthSpec, HttpMethod, IntegrationManifest, JsonSchema, OnConflictSpec, ParamSpec, ReconcileSpec } from "./types";

export type ValidationResult = { readonly valid: true } | { readonly valid: false; readonly errors: readonly ValidationIssue[] };

/** The public view of an action (`GET /v1/actions/:slug`). */
export interface ActionDetail {
  readonly slug: string;
  readonly integration: string;
  readonly name: string;
  readonly description: string;
  readonly group: string | null;
  readonly method: HttpMethod;
  readonly input_schema: JsonSchema;
  readonly output_schema: JsonSchema;
  /** The current schema version, known once `syncSchemaVersions` ran; `null` before. */
  readonly schema_version: number | null;
}

/** Everything a runner needs to call the upstream for an action. */
export interface ActionRunSpec {
  readonly slug: string;
  readonly integration: string;
  readonly base_url: string;
  readonly http: { readonly method: HttpMethod; readonly path: string };
  readonly params: Readonly<Record<string, ParamSpec>>;
  readonly response: "json" | "any";
  readonly on_conflict: OnConflictSpec | null;
  /** How a lost answer is settled: reads are "idempotent"; a write without a declaration is "none". */
  readonly reconcile: ReconcileSpec;
  /** Input and output paths marked writeOnly / x-sensitive: masked wherever a run is stored or logged. */
  readonly sensitive: { readonly input: readonly SensitivePath[]; readonly output: readonly SensitivePath[] };
  readonly auth: Pick<AuthSpec, "type" | "apply" | "hint" | "check">;
}

/** A trigger's payload schema to version: what `syncSchemaVersions` stores in `trigger_schema`. */
export interface VersionedTriggerSchema {
  readonly integration: string;
  readonly trigger: string;
  readonly contentHash: string;
  readonly payload: JsonSchema;
}

/** A schema pair to version: what `syncSchemaVersions` stores. */
export interface VersionedSchemas {
  readonly integration: string;
  readonly action: string;
  readonly contentHash: string;
  readonly input: JsonSchema;
  readonly output: JsonSchema;
}

export interface Registry {
  listIntegrations(): IntegrationSummary[];
  /** The integration with its actions, or `undefined`. */
  getIntegration(slug: string): (IntegrationSummary & { readonly actions: readonly ActionSummary[] }) | undefined;
  /** Filtered, searched, paginated actions; throws `InvalidCursorError` for a cursor it did not issue. */
  listActions(query?: ListActionsQuery): ActionPage;
  getAction(slug: string): ActionDetail | undefined;
  hasAction(slug: string): boolean;
  getRunSpec(slug: string): ActionRunSpec | undefined;
  /** How an integration authenticates (apply, check, hint; not the credentials schema), or `undefined`. */
  getAuthSpec(integration: string): ActionRunSpec["auth"] | undefined;
  /** Validates an action input; throws `UnknownActionError`. Errors carry JSON pointers, keywords and sentences. */
  validateInput(slug: string, input: unknown): ValidationResult;
  /** Validates upstream data against the action's output schema; throws `UnknownActionError`. */
  validateOutput(slug: string, data: unknown): ValidationResult;
  /** Validates the credentials a connection gives; throws `UnknownIntegrationError`. */
  validateCredentials(integration: string, credentials: unknown): ValidationResult;
  /**
   * Names of the credential fields marked `x-secret`, of one integration or (no argument) of all: what the logger
   * redacts and what is stripped from stored inputs.
   */
  secretFields(integration?: string): string[];
  /** See `checkFlow` in `flow-check.ts`. */
  checkFlow(steps: unknown): FlowCheckResult;
  /** Action slugs ranked best first for a free-text query, any word matching (see `search.ts`); `only` restricts the candidates. */
  searchActions(query: string, only?: (slug: string) => boolean): string[];
  /** The action as a tool definition (see `toTool`); throws `UnknownActionError`. */
  toTool(slug: string, format: ToolFormat): ToolDefinition;
  /** Every action's bundled schemas and content hash, for schema versioning. */
  versionedSchemas(): VersionedSchemas[];
  /** Records the current schema version of an action (called by `syncSchemaVersions`). */
  setSchemaVersion(slug: string, version: number): void;

  /** Triggers (manifests' and the platform's), ordered by slug; only one integration's when given (`nagent`: the platform's). */
  listTriggers(integration?: string): TriggerSummary[];
  /** Filtered, searched, paginated triggers (GET /v1/triggers); throws `InvalidCursorError`. */
  listTriggerPage(query?: ListTriggersQuery): TriggerPage;
  getTrigger(slug: string): TriggerDef | undefined;
  hasTrigger(slug: string): boolean;
  /** Integration slugs that have triggers, the platform's (`nagent`) included. */
  triggerIntegrations(): string[];
  /** Validates an event's `data` against the trigger's payload schema (errors rooted at "data"); throws `UnknownTriggerError`. */
  validateTriggerPayload(slug: string, data: unknown): ValidationResult;
  /** Validates a subscription filter (filter name → value); unknown names refused. Throws `UnknownTriggerError`. */
  validateTriggerFilter(slug: string, filter: unknown): ValidationResult;
  /** Whether an event's `data` passes a (valid) subscription filter: see `matchFilter`. Throws `UnknownTriggerError`. */
  matchTriggerFilter(slug: string, filter: unknown, data: unknown): boolean;
  /** Every trigger's bundled payload schema and content hash, for schema versioning. */
  versionedTriggerSchemas(): VersionedTriggerSchema[];
  /** Records the current payload schema version of a trigger (called by `syncSchemaVersions`). */
  setTriggerSchemaVersion(slug: string, version: number): void;
}

/**
 * Loads every `<dir>/*\/manifest.json`, checks all of them and compiles every validator once. Throws a
 * `ManifestError` listing every problem (file, action, JSON pointer) when any manifest is invalid: the caller
 * (the API's boot) must refuse to start.
 */
export function loadRegistry(dir: string, options: LoadOptions = {}): Registry {
  const result = checkManifestDirectory(dir, options);
  if (result.problems.length > 0) throw new ManifestError(result.problems);
  return buildRegistry(result.integrations, result.actions, result.triggers);
}

/** `loadRegistry` with named options. */
export function createRegistry(options: { readonly manifestsDir: string } & LoadOptions): Registry {
  return loadRegistry(options.manifestsDir, options);
}

function buildRegistry(integrations: readonly CompiledIntegration[], actions: readonly CompiledAction[], manifestTriggers: readonly CompiledTrigger[]): Registry {
  const bySlug = new Map(actions.map((a) => [a.manifest.slug, a]));
  const triggers = [...manifestTriggers, ...compilePlatformTriggers(createSchemaAjv())].sort((a, b) => (a.manifest.slug < b.manifest.slug ? -1 : 1));
  const triggerBySlug = new Map(triggers.map((t) => [t.manifest.slug, t]));
  const triggerVersions = new Map<string, number>();
  const trigger = lookup(triggerBySlug, UnknownTriggerError);
  const triggerDef = (t: CompiledTrigger): TriggerDef => ({
    ...summarizeTrigger(t),
    source: t.source,
    payload_schema: t.payloadSchema,
    examples: t.manifest.examples,
    filters: t.filters,
    schema_version: triggerVersions.get(t.manifest.slug) ?? null,
  });
  const integrationBySlug = new Map(integrations.map((i) => [i.manifest.slug, i]));
  const versions = new Map<string, number>();
  const search = createActionSearch(actions);
  const runSpecs = new Map<string, ActionRunSpec>();

  const action = lookup(bySlug, UnknownActionError);
  const compiledIntegration = lookup(integrationBySlug, UnknownIntegrationError);
  const detail = (a: CompiledAction): ActionDetail => ({
    ...summarizeAction(a),
    method: a.manifest.http.method,
    input_schema: a.inputSchema,
    output_schema: a.outputSchema,
    schema_version: versions.get(a.manifest.slug) ?? null,
  });
  const validate = (fn: CompiledAction["validateInput"], value: unknown, rootLabel?: string): ValidationResult =>
    fn(value) ? { valid: true } : { valid: false, errors: formatAjvErrors(fn.errors, rootLabel) };

  return {
    listIntegrations: () => integrations.map((i) => summarizeIntegration(i.manifest)),
    getIntegration(slug) {
      const found = integrationBySlug.get(slug);
      if (found === undefined) return undefined;
      return { ...summarizeIntegration(found.manifest), actions: actions.filter((a) => a.integration === found.manifest).map(summarizeAction) };
    },
    listActions: (query = {}) => pageActions(actions, query, search),
    searchActions: (query, only) => search.search(query, only ? { only } : {}),
    getAction: (slug) => {
      const found = bySlug.get(slug);
      return found === undefined ? undefined : detail(found);
    },
    hasAction: (slug) => bySlug.has(slug),
    getRunSpec(slug) {
      const found = bySlug.get(slug);
      if (found === undefined) return undefined;
      let spec = runSpecs.get(slug);
      if (!spec) runSpecs.set(slug, (spec = runSpec(found)));
      return spec;
    },
    getAuthSpec(integration) {
      const found = integrationBySlug.get(integration);
      if (found === undefined) return undefined;
      const { type, apply, hint, check } = found.manifest.auth;
      return { type, apply, hint, check };
    },
    validateInput: (slug, input) => validate(action(slug).validateInput, input),
    validateOutput: (slug, data) => validate(action(slug).validateOutput, data, "data"),
    validateCredentials: (slug, credentials) => validate(compiledIntegration(slug).validateCredentials, credentials, "credentials"),
    secretFields(slug) {
      const list = slug === undefined ? integrations : [compiledIntegration(slug)];
      return [...new Set(list.flatMap((i) => secretFieldsOf(i.manifest)))].sort();
    },
    checkFlow: (steps) =>
      checkFlow(steps, (slug) => bySlug.get(slug), (slug) => {
        const found = triggerBySlug.get(slug);
        return found === undefined ? undefined : { payloadSchema: found.payloadSchema };
      }),
    toTool: (slug, format) => toTool(detail(action(slug)), format),
    versionedSchemas: () =>
      actions.map((a) => ({ integration: a.integration.slug, action: a.manifest.slug, contentHash: a.contentHash, input: a.inputSchema, output: a.outputSchema })),
    setSchemaVersion(slug, version) {
      action(slug);
      versions.set(slug, version);
    },
    listTriggers: (integration) => triggers.filter((t) => integration === undefined || t.integration === integration).map(summarizeTrigger),
    listTriggerPage: (query = {}) => pageTriggers(triggers, query),
    getTrigger: (slug) => {
      const found = triggerBySlug.get(slug);
      return found === undefined ? undefined : triggerDef(found);
    },
    hasTrigger: (slug) => triggerBySlug.has(slug),
    triggerIntegrations: () => [...new Set([...triggers.map((t) => t.integration), PLATFORM_INTEGRATION])].sort(),
    validateTriggerPayload: (slug, data) => validate(trigger(slug).validatePayload, data, "data"),
    validateTriggerFilter: (slug, filter) => validate(trigger(slug).validateFilter, filter, "filter"),
    matchTriggerFilter: (slug, filter, data) => matchFilter(trigger(slug), filter, data),
    versionedTriggerSchemas: () => triggers.map((t) => ({ integration: t.integration, trigger: t.manifest.slug, contentHash: t.contentHash, payload: t.payloadSchema })),
    setTriggerSchemaVersion(slug, version) {
      trigger(slug);
      triggerVersions.set(slug, version);
    },
  };
}

function runSpec(compiled: CompiledAction): ActionRunSpec {
  const { integration, manifest } = compiled;
  const { type, apply, hint, check } = integration.auth;
  return {
    slug: manifest.slug,
    integration: integration.slug,
    base_url: integration.base_url,
    http: manifest.http,
    params: manifest.params,
    response: manifest.response ?? "json",
    on_conflict: manifest.on_conflict ?? null,
    reconcile: manifest.reconcile ?? (manifest.http.method === "GET" ? "idempotent" : "none"),
    sensitive: { input: sensitivePaths(compiled.inputSchema), output: sensitivePaths(compiled.outputSchema) },
    auth: { type, apply, hint, check },
  };
}

function secretFieldsOf(manifest: IntegrationManifest): string[] {
  const properties = manifest.auth.credentials["properties"];
  if (!isPlainObject(properties)) return [];
  return Object.entries(properties)
    .filter(([, schema]) => isPlainObject(schema) && schema["x-secret"] === true)
    .map(([name]) => name);
}

/** The entry of `entries` with that slug; for any other slug, throws the registry's error for its kind. */
function lookup<T>(entries: ReadonlyMap<string, T>, Unknown: new (slug: string) => Error): (slug: string) => T {
  return (slug) => {
    const found = entries.get(slug);
    if (found === undefined) throw new Unknown(slug);
    return found;
  };
}
