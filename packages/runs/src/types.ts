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
