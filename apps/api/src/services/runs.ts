import { AppError, notFound } from "@nagent/errors";
import type { Fairness, RunProducer } from "@nagent/queue";
import type { Registry } from "@nagent/registry";
import { maskSensitive } from "@nagent/registry";
import { InvalidRunCursorError, type Envelope, type ListRunsQuery, type RunLister, type RunSource, type RunStatus, type RunStore, type RunSummaryRow } from "@nagent/runs";
import { runFields, toRunView, type DetailOnly, type RunView } from "./run-view";

/** A run in a list (GET /v1/runs): the run without its bodies and attempts, plus the envelope's outcome. */
export type RunSummaryView = Omit<RunView, DetailOnly> & { successful: boolean | null };

/** GET /v1/runs's query as the route validated it. */
export interface ListRunsParams {
  action?: string | undefined;
  status?: RunStatus | undefined;
  connection_id?: string | undefined;
  error_code?: string | undefined;
  idempotency_key?: string | undefined;
  source?: RunSource | undefined;
  toolset_id?: string | undefined;
  created_after?: string | undefined;
  created_before?: string | undefined;
  limit?: number | undefined;
  cursor?: string | undefined;
}

/** Listing, reading and canceling a workspace's runs. */
/** POST /v1/runs/:id/reconcile's body as the route validated it. */
export type ReconcileRequest =
  | { status: "succeeded"; data?: unknown }
  | { status: "failed"; error?: { code?: string | undefined; message: string } | undefined };

export function createRunService(deps: { store: RunStore; lister: RunLister; producer: RunProducer; fairness: Fairness; registry: Registry }) {
  const { store } = deps;
  return {
    /** One page of the workspace's runs, newest first (packages/runs/src/list-runs.ts has the query). */
    async list(workspaceId: string, params: ListRunsParams): Promise<{ runs: RunSummaryView[]; next_cursor: string | null }> {
      const query: ListRunsQuery = {
        action: params.action, status: params.status, connectionId: params.connection_id, errorCode: params.error_code,
        idempotencyKey: params.idempotency_key, source: params.source, toolsetId: params.toolset_id, limit: params.limit, cursor: params.cursor,
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
      const view = toRunView(run, attempts);
      if (view.waiting) view.waiting = { ...view.waiting, position: await store.queuePosition(workspaceId, run) };
      return view;
    },

    /**
     * Records what the caller found out about a run whose outcome is unknown: succeeded with the data it read (checked
     * against the action's output schema, sensitive fields masked as on any stored output), or failed. Only an
     * `unknown` run can be reconciled; the change is a run event like any other (SSE streams show it).
     */
    async reconcile(workspaceId: string, id: string, body: ReconcileRequest, apiKeyId: string): Promise<RunView> {
      const run = await store.get(workspaceId, id);
      if (!run) throw notFound("Run");
      if (run.status !== "unknown") throw new AppError("RUN_NOT_RECONCILABLE", `The run is ${run.status}; only a run whose outcome is unknown can be reconciled.`);
      let envelope: Envelope;
      if (body.status === "succeeded") {
        const data = body.data === undefined ? null : body.data;
        if (deps.registry.hasAction(run.action)) {
          const check = deps.registry.validateOutput(run.action, data);
          if (!check.valid) {
            const details = check.errors.slice(0, 10).map((e) => ({ in: "body", path: `/data${e.path.replace(/^\/?data/, "")}`, message: e.message, keyword: e.keyword }));
            throw new AppError("VALIDATION_FAILED", `The data does not match ${run.action}'s output schema: ${details[0]?.path ?? "/data"} ${details[0]?.message ?? "is invalid"}.`, { details });
          }
        }
        const sensitive = deps.registry.getRunSpec(run.action)?.sensitive.output ?? [];
        envelope = { data: maskSensitive(data, sensitive).masked, error: null, successful: true };
      } else {
        envelope = {
          data: null, successful: false,
          error: { code: body.error?.code ?? "UPSTREAM_OUTCOME_FAILED", message: body.error?.message ?? "The caller found that the write did not take effect.", retryable: false },
        };
      }
      const updated = await store.reconcile(workspaceId, id, { status: body.status, envelope, by: apiKeyId });
      if (!updated) {
        const now = await store.get(workspaceId, id);
        if (!now) throw notFound("Run");
        throw new AppError("RUN_NOT_RECONCILABLE", `The run is ${now.status}; only a run whose outcome is unknown can be reconciled.`);
      }
      return toRunView(updated, await store.attempts(workspaceId, id));
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

/**
 * `successful` comes from the status, not from `output`: the store ends a run as succeeded exactly when its envelope
 * is successful (failed and canceled runs carry successful: false), and reading `output` would fetch and decompress
 * every listed run's (possibly megabyte) envelope.
 */
function toRunSummaryView(row: RunSummaryRow): RunSummaryView {
  const successful = row.status === "succeeded" ? true : row.status === "failed" || row.status === "canceled" || row.status === "unknown" ? false : null;
  return { ...runFields(row), successful };
}
