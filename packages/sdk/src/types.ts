import type { paths } from "./generated/openapi.js";
import type { ActionTypes } from "./generated/actions.js";
import type { TriggerTypes } from "./generated/triggers.js";

export type { paths, components } from "./generated/openapi.js";
export type { ActionTypes } from "./generated/actions.js";
export type { TriggerTypes } from "./generated/triggers.js";

type Operation<P extends keyof paths, M extends string> = M extends keyof paths[P] ? paths[P][M] : never;

/** The JSON answer of an operation with a status. */
export type ResponseOf<P extends keyof paths, M extends string, S extends number> =
  Operation<P, M> extends { responses: infer R } ? (S extends keyof R ? (R[S] extends { content: { "application/json": infer T } } ? T : never) : never) : never;

/** The JSON body of an operation. */
export type BodyOf<P extends keyof paths, M extends string> =
  Operation<P, M> extends { requestBody?: { content: { "application/json": infer B } } } ? B : never;

/** The query parameters of an operation. */
export type QueryOf<P extends keyof paths, M extends string> = Operation<P, M> extends { parameters: { query?: infer Q } } ? NonNullable<Q> : never;

export type Workspace = ResponseOf<"/v1/workspaces", "post", 201>["workspace"];
export type CreatedWorkspace = ResponseOf<"/v1/workspaces", "post", 201>;
export type ApiKey = ResponseOf<"/v1/api-keys", "get", 200>["api_keys"][number];
export type CreatedApiKey = ResponseOf<"/v1/api-keys", "post", 201>;
export type Connection = ResponseOf<"/v1/connections/{id}", "get", 200>["connection"];
export type CreateConnection = BodyOf<"/v1/connections", "post">;
export type UpdateConnection = BodyOf<"/v1/connections/{id}", "patch">;
export type ConnectionTest = ResponseOf<"/v1/connections/{id}/test", "post", 200>;
export type IntegrationSummary = ResponseOf<"/v1/integrations", "get", 200>["integrations"][number];
export type Integration = ResponseOf<"/v1/integrations/{slug}", "get", 200>["integration"];
export type ActionSummary = ResponseOf<"/v1/actions", "get", 200>["actions"][number];
export type ActionsQuery = Omit<QueryOf<"/v1/actions", "get">, "cursor">;
export type RunSummary = ResponseOf<"/v1/runs", "get", 200>["runs"][number];
export type RunsQuery = Omit<QueryOf<"/v1/runs", "get">, "cursor">;
export type Run = ResponseOf<"/v1/runs/{id}", "get", 200>["run"];
export type RunStatus = Run["status"];

/** Every action slug. */
export type ActionSlug = keyof ActionTypes;
/** An action's input (what `execute` and `validate` take). */
export type ActionInput<S extends ActionSlug> = ActionTypes[S]["input"];
/** An action's output: the envelope's `data` when the run succeeded. */
export type ActionOutput<S extends ActionSlug> = ActionTypes[S]["output"];
/** The detail of an action, with its JSON Schemas. */
export type ActionDetail<S extends ActionSlug = ActionSlug> = Omit<ResponseOf<"/v1/actions/{slug}", "get", 200>["action"], "slug"> & { slug: S };

/** A failed run's error: a stable code (`UPSTREAM_NOT_FOUND`, `CONNECTION_INVALID`, …), the message, and whether a retry may help. */
export type RunError = NonNullable<ResponseOf<"/v1/actions/{slug}/execute", "post", 200>["error"]>;

/** Every run ends in an envelope: `data` typed by the action's output schema when `successful`, else `error`. */
export type Envelope<T> =
  | { readonly successful: true; readonly data: T; readonly error: null }
  | { readonly successful: false; readonly data: null; readonly error: RunError };

/** What `execute` resolves to: the run's id and its envelope. */
export type ExecuteResult<S extends ActionSlug> = Envelope<ActionOutput<S>> & { readonly run_id: string };

/** What `enqueue` (async execute) resolves to. */
export type QueuedRun = ResponseOf<"/v1/actions/{slug}/execute", "post", 202>;

/** `validate`'s answer: problems as JSON pointers into the input. */
export type ValidationResult = ResponseOf<"/v1/actions/{slug}/validate", "post", 200>;

/** One state of a run, as its event stream (`GET /v1/runs/:id/events`) sends it; terminal states carry `output`. */
export interface RunEvent<T = unknown> {
  readonly id: string;
  readonly status: RunStatus;
  readonly attempt: number;
  readonly reason: string | null;
  readonly at: string;
  readonly output?: Envelope<T>;
}

/** Every trigger slug (none until an integration declares triggers). */
export type TriggerSlug = keyof TriggerTypes;
