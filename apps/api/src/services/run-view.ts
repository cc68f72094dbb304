import type { AttemptRow, Envelope, OutputCheck, RunRow, RunSource, RunStatus, Waiting } from "@nagent/runs";

export interface AttemptView {
  number: number;
  started_at: string;
  finished_at: string | null;
  outcome: string | null;
  upstream_status: number | null;
  latency_ms: number | null;
  error_code: string | null;
  error_message: string | null;
  retry_delay_ms: number | null;
}

/** Fields only the full view (GET /v1/runs/:id) has. */
export type DetailOnly = "input" | "output" | "attempts" | "platform_assigned" | "output_check" | "reconciled_at" | "reconciled_by";

export interface RunView {
  id: string;
  action: string;
  integration: string;
  connection_id: string | null;
  source: RunSource;
  toolset_id: string | null;
  status: RunStatus;
  status_reason: string | null;
  input: unknown;
  input_truncated: boolean;
  /** Input properties the platform filled in (GET /v1/runs/:id only). */
  platform_assigned: string[];
  output: Envelope | null;
  /** The answer checked against the output schema (GET /v1/runs/:id only). */
  output_check: OutputCheck | null;
  reconciled_at: string | null;
  reconciled_by: string | null;
  output_truncated: boolean;
  error_code: string | null;
  idempotency_key: string | null;
  schema_version: number;
  attempts_count: number;
  attempts?: AttemptView[];
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  next_attempt_at: string | null;
  /** Why a queued run waits, and until when (position: GET /v1/runs/:id only). */
  waiting: (Waiting & { position?: number }) | null;
  /** From the first attempt's start to the end. */
  duration_ms: number | null;
}

const iso = (d: Date | null) => d?.toISOString() ?? null;

/** The fields a run shows both in a list and in full, picked one by one (never the row wholesale). */
export function runFields(row: Omit<RunRow, "workspace_id" | "input" | "output" | "request_hash" | "updated_at" | "attempt_started_at">): Omit<RunView, DetailOnly> {
  return {
    id: row.id,
    action: row.action,
    integration: row.integration,
    connection_id: row.connection_id,
    source: row.source,
    toolset_id: row.toolset_id,
    status: row.status,
    status_reason: row.status_reason,
    input_truncated: row.input_truncated,
    output_truncated: row.output_truncated,
    error_code: row.error_code,
    idempotency_key: row.idempotency_key,
    schema_version: row.schema_version,
    attempts_count: row.attempts_count,
    created_at: row.created_at.toISOString(),
    started_at: iso(row.started_at),
    finished_at: iso(row.finished_at),
    next_attempt_at: iso(row.next_attempt_at),
    waiting: row.status === "queued" ? row.waiting : null,
    duration_ms: row.started_at && row.finished_at ? row.finished_at.getTime() - row.started_at.getTime() : null,
  };
}

/** A run as the API shows it in full: its fields, input, envelope and (when given) attempts. */
export function toRunView(row: RunRow, attempts?: readonly AttemptRow[]): RunView {
  const view: RunView = {
    ...runFields(row), input: row.input, platform_assigned: row.platform_assigned ?? [], output: row.output,
    output_check: row.output_check ?? null, reconciled_at: iso(row.reconciled_at ?? null), reconciled_by: row.reconciled_by ?? null,
  };
  if (attempts) {
    view.attempts = attempts.map((a) => ({
      number: a.number,
      started_at: a.started_at.toISOString(),
      finished_at: iso(a.finished_at),
      outcome: a.outcome,
      upstream_status: a.upstream_status,
      latency_ms: a.latency_ms,
      error_code: a.error_code,
      error_message: a.error_message,
      retry_delay_ms: a.retry_delay_ms,
    }));
  }
  return view;
}
