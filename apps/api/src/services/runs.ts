import { AppError, notFound } from "@nagent/errors";
import type { Fairness, RunProducer } from "@nagent/queue";
import type { RunStore } from "@nagent/runs";
import { toRunView, type RunView } from "./run-view";

/** Reading and canceling a workspace's runs. */
export function createRunService(deps: { store: RunStore; producer: RunProducer; fairness: Fairness }) {
  const { store } = deps;
  return {
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
