import type { ActionRunSpec } from "@nagent/registry";
import type { ClaimedRun, Envelope, OutputCheck } from "@nagent/runs";

/** What the attempt's upstream call was like, recorded on its attempt row. */
export interface AttemptFacts {
  readonly upstreamStatus: number | null;
  readonly latencyMs: number | null;
}

/** How a run ends: its final status and envelope, written once by `store.finish`. */
export interface RunEnding {
  readonly kind: "end";
  readonly status: "succeeded" | "failed" | "unknown";
  readonly envelope: Envelope;
  readonly facts: AttemptFacts;
  readonly outputCheck?: OutputCheck;
}

/** The attempt failed and may be tried again after `delayMs`: the run stays queued. */
export interface RetryPlan {
  readonly kind: "retry";
  readonly delayMs: number;
  readonly reason: string;
  readonly error: { readonly code: string; readonly message: string; readonly upstreamStatus: number | null };
  readonly latencyMs: number | null;
}

export const NO_CALL: AttemptFacts = { upstreamStatus: null, latencyMs: null };

/** A failure decided before or without the upstream: never retried. */
export const failed = (code: string, message: string, facts: AttemptFacts = NO_CALL): RunEnding =>
  ({ kind: "end", status: "failed", envelope: { data: null, error: { code, message, retryable: false }, successful: false }, facts });

/**
 * A write whose attempt may have reached the upstream, unheard, and that cannot be repeated safely: `unknown`, never
 * retried blindly. The caller checks the upstream and records what it found (POST /v1/runs/:id/reconcile).
 */
export const unknownOutcome = (run: ClaimedRun, spec: ActionRunSpec, why: string, facts: AttemptFacts = NO_CALL): RunEnding => ({
  kind: "end",
  status: "unknown",
  envelope: {
    data: null,
    error: {
      code: "UPSTREAM_OUTCOME_UNKNOWN", retryable: false,
      message: `The upstream may have carried out this ${spec.http.method} ${spec.http.path} but no answer came back (${why}). It was not repeated: ` +
        `${run.action} ${spec.reconcile === "none" ? "cannot be reconciled" : "could not be reconciled"}. Check the upstream, then record what you found with POST /v1/runs/${run.id}/reconcile.`,
    },
    successful: false,
  },
  facts,
});
