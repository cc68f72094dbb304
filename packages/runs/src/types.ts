import type { Lane } from "@nagent/batch";

/**
 * Run status: queued → running → succeeded | failed | unknown; queued → canceled; running → queued between attempts;
 * unknown → succeeded | failed when the caller reconciles it (POST /v1/runs/:id/reconcile). `unknown`: a write that
 * may have reached the upstream, whose outcome could not be established and that cannot be repeated safely.
 */
export type RunStatus = "queued" | "running" | "succeeded" | "failed" | "canceled" | "unknown";

/** Where a run came from: the REST execute route or an MCP tools/call. */
export type RunSource = "api" | "mcp";
export const RUN_SOURCES: readonly RunSource[] = ["api", "mcp"];

/** Ended: no attempt will follow (an `unknown` run changes only when its caller reconciles it). */
export const TERMINAL_STATUSES: readonly RunStatus[] = ["succeeded", "failed", "canceled", "unknown"];

/** What an upstream answer's check against the action's output schema found (`run.output_check`). */
export interface OutputCheck {
  readonly valid: boolean;
  /** At most 10, each `{path, message}` with `path` a JSON pointer into `data`. */
  readonly problems: { readonly path: string; readonly message: string }[];
}

/**
 * The vault purpose of a run's sealed sensitive input values (bound to the run's id). Defined by the vault, whose
 * data-key rotation re-seals `run.sealed_input` (`SEALED_COLUMNS`).
 */
export { RUN_SENSITIVE_INPUT } from "@nagent/vault";

/** A workspace's choice for answers that do not match the output schema (workspace.output_check). */
export type OutputCheckMode = "record" | "strict";

export function isTerminal(status: string): boolean {
  return (TERMINAL_STATUSES as readonly string[]).includes(status);
}

/** Why a queued run is not running, and until when (`run.waiting`); null when it does not wait. */
export type WaitingReason = "rate_limit" | "workspace_cap" | "retry_backoff" | "connection_paused";
export const WAITING_REASONS: readonly WaitingReason[] = ["rate_limit", "workspace_cap", "retry_backoff", "connection_paused"];
export interface Waiting {
  readonly reason: WaitingReason;
  /** When the run started waiting for this reason (ISO 8601). */
  readonly since: string;
  /** When it is due to be tried again (ISO 8601). */
  readonly resume_at?: string;
}

/** The error of a failed run's envelope. */
export interface RunError {
  readonly code: string;
  readonly message: string;
  readonly retryable: boolean;
  readonly upstream_status?: number;
}

/** Every run ends in this envelope. */
export interface Envelope {
  readonly data: unknown;
  readonly error: RunError | null;
  readonly successful: boolean;
}

/** What PostgreSQL NOTIFY carries on `RUN_EVENTS_CHANNEL` for every state change of a run. */
export interface RunEvent {
  readonly id: string;
  readonly workspace_id: string;
  readonly status: RunStatus;
  readonly attempt: number;
  readonly reason: string | null;
  readonly action: string;
  readonly integration: string;
  readonly error_code: string | null;
  /** Why a queued run waits, when it does. */
  readonly waiting?: Waiting | null;
  readonly at: string;
  /** Terminal events carry the envelope when it is small (NOTIFY payloads are limited to 8000 bytes); else read the run. */
  readonly output?: Envelope | null;
}

/** The PostgreSQL channel of run state changes (sent on commit, so a listener always finds the row updated). */
export const RUN_EVENTS_CHANNEL = "nagent_run_events";

/** A run to insert (`RunStore.insert`). */
export interface NewRun {
  readonly id: string;
  readonly workspaceId: string;
  /** The connection the caller named, or null for the workspace's default connection of the integration. */
  readonly connectionId: string | null;
  readonly integration: string;
  readonly action: string;
  readonly schemaVersion: number;
  readonly input: unknown;
  readonly idempotencyKey: string | null;
  readonly requestHash: string | null;
  /** Where the call came from: "api" (REST execute, the default) or "mcp" (tools/call). */
  readonly source?: RunSource;
  /** The tool set an MCP call came through, if any. */
  readonly toolsetId?: string | null;
  /** Input properties the platform filled in (shown as platform-assigned). */
  readonly platformAssigned?: readonly string[];
  /** The input's sensitive values, sealed by the vault (`input` holds them masked); null when there are none. */
  readonly sealedInput?: Buffer | null;
  /**
   * Whether the insert returns only once its commit is on disk (the default). A sync execute passes false: nothing is
   * promised before its answer, and its answer follows the run's finish, whose durable commit flushes this one too
   * (a sync execute answering before the finish makes the insert durable first: `flushCommits`).
   */
  readonly durable?: boolean;
}

export interface RunRow {
  readonly id: string;
  readonly workspace_id: string;
  readonly connection_id: string | null;
  readonly integration: string;
  readonly action: string;
  readonly schema_version: number;
  readonly status: RunStatus;
  readonly status_reason: string | null;
  readonly input: unknown;
  readonly input_truncated: boolean;
  readonly output: Envelope | null;
  readonly output_truncated: boolean;
  readonly error_code: string | null;
  readonly idempotency_key: string | null;
  readonly request_hash: string | null;
  readonly attempts_count: number;
  readonly created_at: Date;
  readonly updated_at: Date;
  readonly started_at: Date | null;
  readonly finished_at: Date | null;
  readonly next_attempt_at: Date | null;
  /** When the attempt in flight started (its run_attempt row is written when it ends). */
  readonly attempt_started_at: Date | null;
  readonly source: RunSource;
  readonly toolset_id: string | null;
  /** Why a queued run waits (null when it does not). */
  readonly waiting: Waiting | null;
  /** The upstream answer checked against the action's output schema (null before the end, or when none was read). */
  readonly output_check: OutputCheck | null;
  /** Input properties the platform filled in. */
  readonly platform_assigned: string[];
  /** Never shown: the vault envelope of the input's sensitive values, while the run may still call the upstream. */
  readonly sealed_input: Buffer | null;
  readonly reconciled_at: Date | null;
  readonly reconciled_by: string | null;
}

export interface AttemptRow {
  readonly number: number;
  readonly started_at: Date;
  readonly finished_at: Date | null;
  readonly outcome: string | null;
  readonly upstream_status: number | null;
  readonly latency_ms: number | null;
  readonly error_code: string | null;
  readonly error_message: string | null;
  readonly retry_delay_ms: number | null;
}

/** A claimed run with what the worker needs to call the upstream. */
export interface ClaimedRun {
  readonly id: string;
  readonly workspace_id: string;
  readonly connection_id: string | null;
  readonly integration: string;
  readonly action: string;
  readonly input: Record<string, unknown>;
  /** The vault envelope of the input's sensitive values, if any. */
  readonly sealed_input: Buffer | null;
  readonly attempt: number;
  /** The previous attempt's worker stopped during it: that attempt may have reached the upstream, unheard. */
  readonly previousLost: boolean;
  /** The workspace's choice for answers that do not match the output schema. */
  readonly outputCheckMode: OutputCheckMode;
  readonly connection: { readonly ciphertext: Buffer; readonly base_url: string | null; readonly status: string; readonly rate_min_rps: number | null; readonly rate_max_rps: number | null } | null;
  /** The batch lane of the claim, kept for the finish ("express": a sync execute waits on the run). */
  readonly lane: Lane;
}

/**
 * What `RunStore.insert` did: created the run; found the run that already holds the Idempotency-Key (the caller
 * compares request hashes); or inserted nothing because no usable connection matched (the caller finds out why, off
 * the hot path).
 */
/**
 * A run as its insert returns it: what execute answers and enqueues (id, status, the connection the statement
 * resolved), not the row. The input went in as JSON; returning it would send it back and parse it again (up to
 * 12 MiB for a file upload), for nobody.
 */
export type InsertedRun = Pick<RunRow, "id" | "workspace_id" | "status" | "output"> & { readonly connection_id: string };

export type InsertOutcome =
  | { readonly kind: "created"; readonly run: InsertedRun }
  | { readonly kind: "existing"; readonly run: RunRow }
  | { readonly kind: "no_connection" };

export interface StuckRun {
  readonly id: string;
  readonly workspace_id: string;
  readonly connection_id: string | null;
  readonly status: RunStatus;
}

/** How an attempt ended, as recorded on run_attempt. */
export interface AttemptOutcome {
  readonly outcome: "succeeded" | "failed" | "unknown" | "retry";
  readonly upstreamStatus: number | null;
  readonly latencyMs: number | null;
  readonly errorCode: string | null;
  readonly errorMessage: string | null;
}
