import { Type } from "typebox";
import { Cursor, Limit, NullableTimestamp, Timestamp, Uuid } from "./common";

export const RunStatus = Type.Enum(["queued", "running", "succeeded", "failed", "canceled", "unknown"], {
  description: "queued → running → succeeded | failed | unknown; queued → canceled. A run waiting between attempts is queued again (see status_reason). " +
    "unknown: a write that may have reached the upstream but whose outcome could not be established and that cannot be repeated safely " +
    "(error UPSTREAM_OUTCOME_UNKNOWN); POST /v1/runs/:id/reconcile records what the caller found (→ succeeded or failed).",
});

const RunSource_ = Type.Enum(["api", "mcp"], { description: "Where the run came from: POST /v1/actions/:slug/execute (api) or an MCP tools/call (mcp)." });

export const RunError = Type.Object({
  code: Type.String({ description: "Stable: UPSTREAM_BAD_REQUEST, UPSTREAM_UNAUTHORIZED, UPSTREAM_NOT_FOUND, UPSTREAM_CONFLICT, UPSTREAM_RATE_LIMITED, UPSTREAM_UNAVAILABLE, UPSTREAM_TIMEOUT, CONNECTION_INVALID, UPSTREAM_OUTCOME_UNKNOWN (status unknown), OUTPUT_SCHEMA_MISMATCH (strict output check), …" }),
  message: Type.String({ description: "The upstream's own message where it gave one." }),
  retryable: Type.Boolean(),
  upstream_status: Type.Optional(Type.Integer()),
}, { title: "RunError" });

export const Envelope = Type.Object({
  data: Type.Unknown({ description: "The upstream's answer, shaped as the action's output_schema says; null on failure (except OUTPUT_SCHEMA_MISMATCH, which keeps the answer for inspection). Fields the schema marks writeOnly or x-sensitive are \"[redacted]\"." }),
  error: Type.Union([RunError, Type.Null()]),
  successful: Type.Boolean(),
}, { title: "Envelope" });

export const Attempt = Type.Object({
  number: Type.Integer(),
  started_at: Timestamp,
  finished_at: NullableTimestamp,
  outcome: Type.Union([Type.String({ description: "succeeded, failed, retry or lost" }), Type.Null()]),
  upstream_status: Type.Union([Type.Integer(), Type.Null()]),
  latency_ms: Type.Union([Type.Integer(), Type.Null()]),
  error_code: Type.Union([Type.String(), Type.Null()]),
  error_message: Type.Union([Type.String(), Type.Null()]),
  retry_delay_ms: Type.Union([Type.Integer(), Type.Null()]),
});

/** Why a queued run is not running, and until when. */
export const Waiting = Type.Object({
  reason: Type.Enum(["rate_limit", "workspace_cap", "retry_backoff", "connection_paused"], {
    description: "rate_limit: the connection's pace (adaptive, see the README); workspace_cap: the workspace runs its maximum of runs at once; retry_backoff: waiting between attempts; connection_paused: the upstream asked the connection to slow down (429 with Retry-After).",
  }),
  since: Timestamp,
  resume_at: Type.Optional(Timestamp),
  position: Type.Optional(Type.Integer({ minimum: 1, description: "GET /v1/runs/:id only: the run's rank among its workspace's queued runs, oldest first." })),
}, { title: "Waiting" });

/** The fields a run shows in a list and in full. */
const runFields = {
  id: Uuid,
  action: Type.String(),
  integration: Type.String(),
  connection_id: Type.Union([Uuid, Type.Null()]),
  source: RunSource_,
  toolset_id: Type.Union([Uuid, Type.Null()], { description: "The tool set an MCP call came through (null for REST and for POST /mcp)." }),
  status: RunStatus,
  status_reason: Type.Union([Type.String(), Type.Null()]),
  input_truncated: Type.Boolean(),
  output_truncated: Type.Boolean(),
  error_code: Type.Union([Type.String(), Type.Null()], { description: "The envelope's error code of a failed or canceled run." }),
  idempotency_key: Type.Union([Type.String(), Type.Null()]),
  schema_version: Type.Integer({ description: "The version of the action's schema the input was validated against." }),
  attempts_count: Type.Integer(),
  created_at: Timestamp,
  started_at: NullableTimestamp,
  finished_at: NullableTimestamp,
  next_attempt_at: NullableTimestamp,
  waiting: Type.Union([Waiting, Type.Null()]),
  duration_ms: Type.Union([Type.Integer(), Type.Null()]),
};

export const OutputCheck = Type.Object({
  valid: Type.Boolean(),
  problems: Type.Array(Type.Object({ path: Type.String({ description: "JSON pointer into data." }), message: Type.String() }), { maxItems: 10 }),
}, { title: "OutputCheck", description: "The upstream answer checked against the action's output_schema (at most 10 problems)." });

export const Run = Type.Object({
  ...runFields,
  input: Type.Unknown({ description: "The input as given, with fields the action's schema marks writeOnly or x-sensitive masked as \"[redacted]\"; large values compacted once the run ended (input_truncated)." }),
  platform_assigned: Type.Array(Type.String(), { description: "Input properties the platform filled in (a task create's unique_id, so that a lost answer can be recovered)." }),
  output: Type.Union([Envelope, Type.Null()]),
  output_check: Type.Union([OutputCheck, Type.Null()]),
  reconciled_at: NullableTimestamp,
  reconciled_by: Type.Union([Type.String(), Type.Null()], { description: "Who reconciled an unknown run: the API key's id, or `admin` for an admin console session." }),
  attempts: Type.Optional(Type.Array(Attempt)),
}, { title: "Run" });

/** A run in a list: no input or output bodies (GET /v1/runs/:id has them), but the envelope's outcome and error code. */
export const RunSummary = Type.Object({
  ...runFields,
  successful: Type.Union([Type.Boolean(), Type.Null()], { description: "The envelope's `successful`; null while the run has not ended." }),
}, { title: "RunSummary" });

/** An ISO 8601 timestamp with its time zone (ajv-formats' date-time requires one), e.g. 2026-11-28T20:00:00Z. */
const instant = (description: string) => Type.String({ format: "date-time", maxLength: 40, description });

export const ListRunsQuerystring = Type.Object({
  action: Type.Optional(Type.String({ minLength: 3, maxLength: 128, pattern: "^[A-Z][A-Z0-9_]+$", description: "An action slug, e.g. SCALE_AI_CREATE_BATCH." })),
  status: Type.Optional(RunStatus),
  connection_id: Type.Optional(Type.String({ format: "uuid", maxLength: 36, description: "Runs through this connection (a deleted connection's runs too)." })),
  error_code: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: "^[A-Z][A-Z0-9_]*$", description: "The envelope's error code, e.g. UPSTREAM_RATE_LIMITED." })),
  idempotency_key: Type.Optional(Type.String({ minLength: 1, maxLength: 255, pattern: "^[\\x21-\\x7e]+$", description: "The Idempotency-Key the run was created with." })),
  source: Type.Optional(Type.Enum(["api", "mcp"], { description: "Only runs from the REST API or only runs from MCP." })),
  toolset_id: Type.Optional(Type.String({ format: "uuid", maxLength: 36, description: "Runs called through this MCP tool set." })),
  created_after: Type.Optional(instant("Runs created at or after this instant (inclusive), e.g. 2026-11-28T20:00:00Z.")),
  created_before: Type.Optional(instant("Runs created before this instant (exclusive).")),
  limit: Type.Optional(Limit),
  cursor: Type.Optional(Cursor),
}, { additionalProperties: false });

const counts = { queued: Type.Integer(), running: Type.Integer(), succeeded: Type.Integer(), failed: Type.Integer(), canceled: Type.Integer(), unknown: Type.Integer() };
const latency = (what: string) => Type.Union([Type.Integer(), Type.Null()], { description: `${what} of started → finished, in ms; null without ended runs.` });

export const RunStatsQuerystring = Type.Object({
  window_minutes: Type.Optional(Type.Integer({ minimum: 1, maximum: 1440, default: 60, description: "How many minutes back, this one included (at most a day)." })),
}, { additionalProperties: false });

export const RunStats = Type.Object({
  window_minutes: Type.Integer(),
  since: Timestamp,
  total: Type.Integer({ description: "Runs created in the window." }),
  p50_ms: latency("The median"),
  p95_ms: latency("The 95th percentile"),
  buckets: Type.Array(Type.Object({ minute: Timestamp, ...counts, p50_ms: latency("The median"), p95_ms: latency("The 95th percentile") }), {
    description: "Runs created per minute (by current status), oldest first; minutes without runs are absent.",
  }),
}, { title: "RunStats" });

/** POST /v1/runs/:id/reconcile: what the caller found out about an `unknown` run. */
export const ReconcileRunBody = Type.Union([
  Type.Object({
    status: Type.Literal("succeeded"),
    data: Type.Unknown({ description: "What the write produced, as the caller read it: validated against the action's output_schema (the body size limit bounds it)." }),
  }, { additionalProperties: false }),
  Type.Object({
    status: Type.Literal("failed"),
    error: Type.Optional(Type.Object({
      code: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: "^[A-Z][A-Z0-9_]*$" })),
      message: Type.String({ minLength: 1, maxLength: 1000 }),
    }, { additionalProperties: false })),
  }, { additionalProperties: false }),
], { title: "ReconcileRunBody" });
