import type { FinishedRunSample } from "@nagent/metrics";
import type { RunView } from "./run-view";

/**
 * Workers report the runs they end; a canceled run ends in the API instead. This wraps the run service so a cancel is
 * counted as finished too (status canceled, error code CANCELED, no duration: it never ran), keeping
 * `runs started − runs finished` equal to the runs in flight.
 */
export function countFinishedOnCancel<S extends { cancel(workspaceId: string, id: string): Promise<RunView> }>(service: S, onFinished: (run: FinishedRunSample) => void): S {
  return {
    ...service,
    async cancel(workspaceId: string, id: string): Promise<RunView> {
      const run = await service.cancel(workspaceId, id);
      onFinished({ integration: run.integration, action: run.action, status: "canceled", errorCode: run.error_code, attempts: null, durationMs: null, upstreamLatencyMs: null });
      return run;
    },
  };
}
