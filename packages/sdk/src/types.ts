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

/** Every trigger slug. */
export type TriggerSlug = keyof TriggerTypes;
/** A trigger's payload: the `data` of its events (as delivered, and in the event log). */
export type TriggerPayload<S extends TriggerSlug> = TriggerTypes[S];
export type TriggerSummary = ResponseOf<"/v1/triggers", "get", 200>["triggers"][number];
export type TriggersQuery = Omit<QueryOf<"/v1/triggers", "get">, "cursor">;
/** A trigger with its payload schema, filters and examples (each example a payload of the trigger). */
export type TriggerDetail<S extends TriggerSlug = TriggerSlug> =
  Omit<ResponseOf<"/v1/triggers/{slug}", "get", 200>["trigger"], "slug" | "examples"> & { slug: S; examples: TriggerPayload<S>[] };

/** A trigger subscription; its signing secret only as a hint (`whsec_…abcd`). */
export type Subscription = ResponseOf<"/v1/trigger-subscriptions/{id}", "get", 200>["subscription"];
export type SubscriptionsQuery = QueryOf<"/v1/trigger-subscriptions", "get">;
/** What `subscriptions.create` takes: `trigger` is a known trigger slug. */
export type CreateSubscription = Omit<BodyOf<"/v1/trigger-subscriptions", "post">, "trigger"> & { trigger: TriggerSlug };
/** The new subscription and its signing secret (`whsec_…`), answered this once. */
export type CreatedSubscription = ResponseOf<"/v1/trigger-subscriptions", "post", 201>;
export type RotateSecret = BodyOf<"/v1/trigger-subscriptions/{id}/rotate-secret", "post">;
/** The subscription and its new signing secret, answered this once. */
export type RotatedSecret = ResponseOf<"/v1/trigger-subscriptions/{id}/rotate-secret", "post", 200>;
/** The test event and its delivery (queued). */
export type TestDelivery = ResponseOf<"/v1/trigger-subscriptions/{id}/test", "post", 202>;

/** A trigger event of the workspace's event log. */
export type EventSummary = ResponseOf<"/v1/events", "get", 200>["events"][number];
export type EventsQuery = Omit<QueryOf<"/v1/events", "get">, "cursor">;
/** An event with its deliveries and their latest attempts. */
export type EventDetail = ResponseOf<"/v1/events/{id}", "get", 200>["event"];
export type EventDelivery = EventDetail["deliveries"][number];
export type Redeliver = BodyOf<"/v1/events/{id}/redeliver", "post">;
/** How many deliveries were queued again. */
export type Redelivered = ResponseOf<"/v1/events/{id}/redeliver", "post", 202>;

/** A connection's status change (active, degraded, invalid) with its reason. */
export type ConnectionEvent = ResponseOf<"/v1/connections/{id}/events", "get", 200>["events"][number];
export type ConnectionEventsQuery = Omit<QueryOf<"/v1/connections/{id}/events", "get">, "cursor">;

/** What `runs.reconcile` records for an `unknown` run: `{status: "succeeded", data}` or `{status: "failed", error?}`. */
export type Reconcile = BodyOf<"/v1/runs/{id}/reconcile", "post">;

export type WorkspaceSettings = ResponseOf<"/v1/workspace/settings", "get", 200>["settings"];
export type UpdateWorkspaceSettings = BodyOf<"/v1/workspace/settings", "patch">;
