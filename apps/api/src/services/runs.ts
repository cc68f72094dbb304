import { AppError, notFound } from "@nagent/errors";
import type { Fairness, RunProducer } from "@nagent/queue";
import { InvalidRunCursorError, type ListRunsQuery, type RunLister, type RunStatus, type RunStore, type RunSummaryRow } from "@nagent/runs";
import { toRunView, type RunView } from "./run-view";

/** A run in a list (GET /v1/runs): the run without its bodies and attempts, plus the envelope's outcome. */
export type RunSummaryView = Omit<RunView, "input" | "output" | "attempts"> & { successful: boolean | null };

/** GET /v1/runs's query as the route validated it. */
export interface ListRunsParams {
  action?: string | undefined;
  status?: RunStatus | undefined;
  connection_id?: string | undefined;
  error_code?: string | undefined;
  idempotency_key?: string | undefined;
  created_after?: string | undefined;
  created_before?: string | undefined;
  limit?: number | undefined;
  cursor?: string | undefined;
}

/** Listing, reading and canceling a workspace's runs. */
export function createRunService(deps: { store: RunStore; lister: RunLister; producer: RunProducer; fairness: Fairness }) {
  const { store } = deps;
  return {
    /** One page of the workspace's runs, newest first (packages/runs/src/list-runs.ts has the query). */
    async list(workspaceId: string, params: ListRunsParams): Promise<{ runs: RunSummaryView[]; next_cursor: string | null }> {
      const query: ListRunsQuery = {
        action: params.action, status: params.status, connectionId: params.connection_id, errorCode: params.error_code,
        idempotencyKey: params.idempotency_key, limit: params.limit, cursor: params.cursor,
        createdAfter: params.created_after === undefined ? undefined : new Date(params.created_after),
        createdBefore: params.created_before === undefined ? undefined : new Date(params.created_before),
      };
      try {
        const page = await deps.lister.list(workspaceId, query);
        return { runs: page.runs.map(toRunSummaryView), next_cursor: page.nextCursor };
      } catch (error) {
        if (error instanceof InvalidRunCursorError) throw new AppError("INVALID_CURSOR", "The cursor is not one this API issued; start again without it.");
        throw error;
      }
    },

    async get(workspaceId: string, id: string): Promise<RunView> {
      const [run, attempts] = await Promise.all([store.get(workspaceId, id), store.attempts(workspaceId, id)]);
      if (!run) throw notFound("Run");
      return toRunView(run, attempts);
    },

    /** Cancels a queued run (no attempt in flight, including one waiting for a retry). */
    async cancel(workspaceId: string, id: string): Promise<RunView> {
      const canceled = await store.cancel(workspaceId, id);
      if (!canceled) {
        const run = await store.get(workspaceId, id);
        if (!run) throw notFound("Run");
        throw new AppError("RUN_NOT_CANCELABLE", `The run is ${run.status}; only a queued run can be canceled.`);
      }
      // Best effort: a job left behind finds its run canceled and does nothing.
      await deps.producer.removeIfWaiting(id).catch(() => {});
      await deps.fairness.donePending(workspaceId).catch(() => {});
      return toRunView(canceled, await store.attempts(workspaceId, id));
    },
  };
}

export type RunService = ReturnType<typeof createRunService>;

const iso = (d: Date | null) => d?.toISOString() ?? null;

/**
 * `successful` comes from the status, not from `output`: the store ends a run as succeeded exactly when its envelope
 * is successful (failed and canceled runs carry successful: false), and reading `output` would fetch and decompress
 * every listed run's (possibly megabyte) envelope.
 */
function toRunSummaryView(row: RunSummaryRow): RunSummaryView {
  return {
    id: row.id,
    action: row.action,
    integration: row.integration,
    connection_id: row.connection_id,
    status: row.status,
    status_reason: row.status_reason,
    successful: row.status === "succeeded" ? true : row.status === "failed" || row.status === "canceled" ? false : null,
    error_code: row.error_code,
    idempotency_key: row.idempotency_key,
    schema_version: row.schema_version,
    attempts_count: row.attempts_count,
    input_truncated: row.input_truncated,
    output_truncated: row.output_truncated,
    created_at: row.created_at.toISOString(),
    started_at: iso(row.started_at),
    finished_at: iso(row.finished_at),
    next_attempt_at: iso(row.next_attempt_at),
    duration_ms: row.started_at && row.finished_at ? row.finished_at.getTime() - row.started_at.getTime() : null,
  };
}
