/**
 * The integration manifest as `integrations/FORMAT.md` describes it. These types mirror
 * `integrations/manifest.schema.json`; a manifest only reaches them after passing that meta-schema and the semantic
 * checks, so code past the loader may rely on them.
 */

/** A JSON Schema (draft 2020-12) document or sub-schema. Kept loose on purpose: manifests carry arbitrary schemas. */
export type JsonSchema = boolean | JsonSchemaObject;
export interface JsonSchemaObject {
  [keyword: string]: unknown;
}

export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/** Where an input property goes on the wire. */
export type ParamLocation = "path" | "query" | "body" | "body_raw" | "body_spread" | "form" | "file";

export interface ParamSpec {
  readonly in: ParamLocation;
  /** The name on the wire when it differs from the input property's name. */
  readonly wire?: string;
  /** Query arrays only: one comma-joined value instead of a repeated key. */
  readonly style?: "comma";
}

export type AuthApply =
  | { readonly type: "basic"; readonly username: string }
  | { readonly type: "bearer"; readonly token: string }
  | { readonly type: "header"; readonly name: string; readonly value: string };

export interface AuthCheck {
  readonly method: HttpMethod;
  readonly path: string;
  readonly expect_status: readonly number[];
}

export interface AuthSpec {
  readonly type: "api_key";
  readonly credentials: JsonSchemaObject;
  readonly apply: AuthApply;
  readonly hint: string;
  readonly check: AuthCheck;
}

export interface OnConflictSpec {
  readonly when_input: string;
  readonly lookup: {
    readonly method: HttpMethod;
    readonly path: string;
    readonly query?: Readonly<Record<string, string>>;
    readonly result_pointer: string;
  };
}

/**
 * How a write whose answer was lost is settled (FORMAT.md, "reconcile"):
 * - `"idempotent"`: repeating the call has the same effect as making it once; it is retried like a read.
 * - `"none"`: it cannot be reconciled; an attempt that may have reached the upstream ends the run `unknown`.
 * - `{by: "unique_id", input}`: a retry meets 409 for the reused `input` and `on_conflict` finds the object; the
 *   platform assigns `input` when the caller gave none, so every such create is recoverable.
 * - `{by: "read_back", compare}`: a retry meets 409 and `on_conflict` reads the object; it is ours only when each
 *   input property named in `compare` equals the value at its JSON pointer in what was read.
 * Reads (GET) need no declaration; a write without one is treated as `"none"`.
 */
export type ReconcileSpec =
  | "idempotent"
  | "none"
  | { readonly by: "unique_id"; readonly input: string }
  | { readonly by: "read_back"; readonly compare: Readonly<Record<string, string>> };

export interface ActionManifest {
  readonly slug: string;
  readonly name: string;
  readonly description: string;
  readonly group?: string;
  readonly http: { readonly method: HttpMethod; readonly path: string };
  readonly params: Readonly<Record<string, ParamSpec>>;
  readonly input: JsonSchemaObject;
  readonly output: JsonSchema;
  readonly response?: "json" | "any";
  readonly on_conflict?: OnConflictSpec;
  readonly reconcile?: ReconcileSpec;
  readonly notes?: readonly string[];
}

export interface IntegrationManifest {
  readonly $schema?: string;
  readonly slug: string;
  readonly name: string;
  readonly description: string;
  readonly version: string;
  readonly categories?: readonly string[];
  readonly base_url: string;
  readonly auth: AuthSpec;
  readonly $defs?: Readonly<Record<string, JsonSchema>>;
  readonly actions: readonly ActionManifest[];
  /** Events the integration emits (FORMAT.md, "Triggers"); absent means none. */
  readonly triggers?: readonly TriggerManifest[];
}

/** How a trigger's events arise: upstream callbacks, polling, or the platform itself (built-in triggers only). */
export type TriggerSource = "callback" | "polling" | "platform";

/** What a subscription may filter a trigger's events on: a value compared with the event data at `path`. */
export interface TriggerFilterSpec {
  readonly description: string;
  /** The JSON Schema a filter value must satisfy (bounded: it is a subscriber's input). */
  readonly schema: JsonSchemaObject;
  /** JSON pointer into the event's `data`. */
  readonly path: string;
  /** `equal` (default): the value at `path` equals the filter value. `any`: both are arrays and they intersect. */
  readonly match?: "equal" | "any";
}

export interface TriggerManifest {
  readonly slug: string;
  readonly name: string;
  readonly description: string;
  readonly group?: string;
  readonly source: TriggerSource;
  /** The JSON Schema of the event's `data` (an object). */
  readonly payload: JsonSchemaObject;
  /** Valid payloads; the first is what a test event sends. */
  readonly examples: readonly Readonly<Record<string, unknown>>[];
  readonly filters: Readonly<Record<string, TriggerFilterSpec>>;
  readonly notes?: readonly string[];
}

/** One problem found in a manifest: the file, the action when there is one, and where inside the file. */
export interface ManifestProblem {
  /** Path of the manifest file as it was given to the loader. */
  readonly file: string;
  /** Slug of the action the problem is in, when it is inside `actions`. */
  readonly action?: string;
  /** Slug of the trigger the problem is in, when it is inside `triggers`. */
  readonly trigger?: string;
  /** JSON pointer into the manifest document. */
  readonly pointer: string;
  readonly message: string;
}
