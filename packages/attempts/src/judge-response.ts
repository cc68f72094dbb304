import type { Logger } from "@nagent/logger";
import { maskSensitive, type ActionRunSpec, type Registry } from "@nagent/registry";
import { retryDelayMs, type BackoffOptions, type CallResult } from "@nagent/runner";
import type { ClaimedRun, OutputCheck } from "@nagent/runs";
import { unknownOutcome, type RetryPlan, type RunEnding } from "./run-endings";

export interface JudgeResponseDeps {
  readonly registry: Registry;
  readonly logger: Logger;
  readonly maxAttempts: number;
  readonly backoff?: BackoffOptions | undefined;
  /** Called for every upstream answer checked against its action's output schema (for metrics). */
  readonly onOutputChecked?: ((check: { action: string; integration: string; valid: boolean }) => void) | undefined;
}

/** An upstream message may echo a sensitive input value: mask it there too before it is stored. */
export function scrub(message: string, sensitive: readonly [string, unknown][]): string {
  let out = message;
  for (const [, value] of sensitive) if (typeof value === "string" && value.length >= 4) out = out.split(value).join("[redacted]");
  return out;
}

/**
 * What an upstream answer means for the run: how it ends (succeeded, failed, unknown) or when it is tried again.
 * Pure but for the output-check metric and log.
 */
export function createResponseJudge(deps: JudgeResponseDeps) {
  const { logger } = deps;

  /**
   * A 2xx answer, checked against the output schema and recorded on the run (and counted); in a strict workspace a
   * mismatch fails the run, the data kept for inspection. Sensitive output fields are masked before storing.
   */
  function judgeSuccess(run: ClaimedRun, spec: ActionRunSpec, result: Extract<CallResult, { ok: true }>): RunEnding {
    const check = deps.registry.validateOutput(run.action, result.data);
    const outputCheck: OutputCheck = check.valid
      ? { valid: true, problems: [] }
      : { valid: false, problems: check.errors.slice(0, 10).map((e) => ({ path: e.path, message: e.message })) };
    deps.onOutputChecked?.({ action: run.action, integration: run.integration, valid: check.valid });
    const data = maskSensitive(result.data, spec.sensitive.output).masked;
    const facts = { upstreamStatus: result.status, latencyMs: result.latencyMs };
    if (check.valid) return { kind: "end", status: "succeeded", envelope: { data, error: null, successful: true }, facts, outputCheck };
    const strict = run.outputCheckMode === "strict";
    logger.warn({ runId: run.id, action: run.action, problems: outputCheck.problems.map((p) => p.path).slice(0, 10), strict }, "upstream answer does not match the action's output schema");
    if (!strict) return { kind: "end", status: "succeeded", envelope: { data, error: null, successful: true }, facts, outputCheck };
    const first = outputCheck.problems[0];
    return {
      kind: "end", status: "failed", facts, outputCheck,
      envelope: {
        data,
        error: {
          code: "OUTPUT_SCHEMA_MISMATCH", retryable: false, upstream_status: result.status,
          message: `The upstream answer does not match ${run.action}'s output schema (${outputCheck.problems.length} problem(s), first: ${first ? `${first.path || "/"} ${first.message}` : "unknown"}); the workspace's output check is strict. The answer is kept in data for inspection.`,
        },
        successful: false,
      },
    };
  }

  /**
   * A failed call. A write whose attempt may have reached the upstream unheard is repeated only when the repeat is
   * safe (idempotent) or finds what the first one did (unique_id, read_back); otherwise, or when no attempt is left,
   * its outcome is unknown — never a false failure, never a blind retry.
   */
  function judgeFailure(run: ClaimedRun, spec: ActionRunSpec, result: Extract<CallResult, { ok: false }>, sensitive: readonly [string, unknown][]): RunEnding | RetryPlan {
    const error = { ...result.error, message: scrub(result.error.message, sensitive) };
    const upstreamStatus = error.upstream_status ?? null;
    const label = `${error.code}${upstreamStatus ? ` ${upstreamStatus}` : ""}`;
    const retrying = error.retryable && run.attempt < deps.maxAttempts;
    if (result.mayHaveReached && spec.reconcile !== "idempotent" && (spec.reconcile === "none" || !retrying)) {
      return unknownOutcome(run, spec, `${label}: ${error.message}`, { upstreamStatus, latencyMs: result.latencyMs });
    }
    if (!retrying) return { kind: "end", status: "failed", envelope: { data: null, error, successful: false }, facts: { upstreamStatus, latencyMs: result.latencyMs } };
    const delayMs = retryDelayMs(run.attempt, result.retryAfterMs, deps.backoff);
    return {
      kind: "retry", delayMs, latencyMs: result.latencyMs,
      reason: `attempt ${run.attempt} of ${deps.maxAttempts} failed (${label}); retrying in ${(delayMs / 1000).toFixed(1)} s`,
      error: { code: error.code, message: error.message, upstreamStatus },
    };
  }

  return function judgeResponse(run: ClaimedRun, spec: ActionRunSpec, result: CallResult, sensitive: readonly [string, unknown][]): RunEnding | RetryPlan {
    return result.ok ? judgeSuccess(run, spec, result) : judgeFailure(run, spec, result, sensitive);
  };
}

export type JudgeResponse = ReturnType<typeof createResponseJudge>;
