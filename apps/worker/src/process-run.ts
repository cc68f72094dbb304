import { DelayedError, type Job } from "bullmq";
import type pg from "pg";
import type { Logger } from "@nagent/logger";
import type { Registry } from "@nagent/registry";
import type { BackoffOptions, CallResult, Runner } from "@nagent/runner";
import type { ClaimedRun, RunStore } from "@nagent/runs";
import type { Admission, Fairness, Lane, PaceLimits, PaceOutcome, RunJobData, WaitReason } from "@nagent/queue";
import type { Vault } from "@nagent/vault";
import { isUpstreamTrouble, type ConnectionHealth } from "./connection-status";
import { createCallPreparer } from "./prepare-call";
import { createResponseJudge, scrub } from "./judge-response";
import type { RetryPlan, RunEnding } from "./run-endings";

export interface ProcessRunDeps {
  readonly pool: pg.Pool;
  readonly store: RunStore;
  readonly registry: Registry;
  readonly vault: Vault;
  readonly runner: Runner;
  readonly fairness: Fairness;
  /** Connection health transitions reported by runs (invalid, degraded, back to active). */
  readonly health: ConnectionHealth;
  readonly logger: Logger;
  /** Attempts of a run, the first included, before a retryable failure becomes final. */
  readonly maxAttempts: number;
  readonly backoff?: BackoffOptions;
  /** Called once per run that ended here (for metrics). */
  readonly onRunFinished?: (run: FinishedRun) => void;
  /** The platform's public origin: Scale tasks created without a callback_url get the connection's inbound URL. */
  readonly publicUrl?: string;
  /** Called for every upstream answer checked against its action's output schema (for metrics). */
  readonly onOutputChecked?: (check: { action: string; integration: string; valid: boolean }) => void;
}

export interface FinishedRun {
  readonly action: string;
  readonly integration: string;
  readonly status: "succeeded" | "failed" | "unknown";
  readonly errorCode: string | null;
  /** Attempts the run took, the last included. */
  readonly attempts: number;
  /** From the first attempt's start to the end. */
  readonly durationMs: number;
  /** The last attempt's upstream latency, when it reached the upstream. */
  readonly upstreamLatencyMs: number | null;
}

/** How an admitted attempt went: what the slot's release needs, and whether the job waits for a retry. */
interface AttemptResult {
  /** This attempt ended the run (its pending count in the workspace goes with the slot). */
  readonly endedRun: boolean;
  /** How the upstream took the call, for the connection's adaptive pace. */
  readonly pace: PaceOutcome;
  readonly limits: PaceLimits | null;
  /** Set when the run waits for another attempt: the job comes back after this many ms. */
  readonly retryInMs: number | null;
}

const NOTHING_DONE: AttemptResult = { endedRun: false, pace: null, limits: null, retryInMs: null };

/** A run a sync execute waits on takes the express lane of every batched step (see Lane in @nagent/batch). */
const laneOf = (job: RunJobData): Lane => (job.sync ? "express" : "bulk");

/** How long a run waits before asking again for a workspace slot (jittered so waiting runs spread out). */
const SLOT_RETRY_MS = 250;

const WAIT_TEXT: Record<WaitReason, string> = {
  workspace_cap: "waiting for a slot of the workspace's concurrency cap",
  rate_limit: "waiting for the connection's rate limit",
  connection_paused: "waiting: the upstream asked this connection to slow down (Retry-After)",
};

/** How long a run refused admission waits. A reserved turn comes back exactly then; other waits are jittered. */
function waitMs(admission: Exclude<Admission, { admitted: true }>): number {
  if (admission.reason === "workspace_cap") return SLOT_RETRY_MS + Math.round(Math.random() * SLOT_RETRY_MS);
  if (admission.reserved) return Math.max(1, admission.waitMs);
  return admission.waitMs + Math.round(Math.random() * Math.min(250, admission.waitMs));
}

/**
 * The run processor: one attempt of one run per job execution, in four steps —
 *
 *   admit (a workspace slot and a turn of the connection's pace)  →  claim (the run row: queued → running)
 *     →  call (prepare: credentials and sealed input opened; the upstream called; its answer judged)
 *     →  finish (the run ended exactly once, guarded by its attempt number) or retry later.
 *
 * Waits (workspace cap, connection pace, planned retries) move the job to BullMQ's delayed set and free the worker at
 * once; the run row records why it waits. A job whose run is already over (canceled, or ended by an earlier job)
 * does nothing.
 */
export function createRunProcessor(deps: ProcessRunDeps) {
  const { store, fairness, logger } = deps;
  const prepareCall = createCallPreparer(deps);
  const judgeResponse = createResponseJudge(deps);

  /** The run's status, its attempt row, its event and the metrics: written once, by the attempt that holds the run. */
  async function finish(run: ClaimedRun, ending: RunEnding): Promise<boolean> {
    const error = ending.envelope.error;
    const ended = await store.finish(run, {
      status: ending.status,
      envelope: ending.envelope,
      outputCheck: ending.outputCheck ?? null,
      outcome: ending.status,
      upstreamStatus: ending.facts.upstreamStatus,
      latencyMs: ending.facts.latencyMs,
      errorCode: error?.code ?? null,
      errorMessage: error?.message ?? null,
    });
    if (ended === null) {
      logger.warn({ runId: run.id, attempt: run.attempt }, "run was taken over by another attempt; result dropped");
      return false;
    }
    deps.onRunFinished?.({
      action: run.action, integration: run.integration, status: ending.status, errorCode: error?.code ?? null,
      attempts: run.attempt, durationMs: ended.durationMs, upstreamLatencyMs: ending.facts.latencyMs,
    });
    return true;
  }

  /** The attempt is recorded as failed and the run queued again; false when another attempt took the run over. */
  function retryLater(run: ClaimedRun, plan: RetryPlan): Promise<boolean> {
    return store.retryLater(run, {
      outcome: "retry", delayMs: plan.delayMs, reason: plan.reason, upstreamStatus: plan.error.upstreamStatus, latencyMs: plan.latencyMs,
      errorCode: plan.error.code, errorMessage: plan.error.message,
    });
  }

  /** What the answer tells about the connection: its health, and a Retry-After that pauses all its runs. */
  async function reportToConnection(run: ClaimedRun, connectionId: string, result: CallResult, sensitive: readonly [string, unknown][]): Promise<void> {
    if (result.ok) {
      if (run.connection?.status === "degraded") await deps.health.recovered(run.workspace_id, connectionId);
      return;
    }
    const { code, upstream_status: status } = result.error;
    const message = scrub(result.error.message, sensitive);
    const label = `${code}${status ? ` ${status}` : ""}`;
    if (isUpstreamTrouble(code, status)) await deps.health.trouble(run.workspace_id, connectionId, `${label}: ${message}`);
    if (code === "UPSTREAM_UNAUTHORIZED") await deps.health.rejected(run.workspace_id, connectionId, `a run was refused (${status ?? 401}): ${message}`);
    // The upstream said until when: pause every run of this connection, not only this one. (A bare 429 only lowers
    // the connection's pace, in the slot's release.)
    if (code === "UPSTREAM_RATE_LIMITED" && result.retryAfterMs !== undefined) await fairness.pauseConnection(connectionId, result.retryAfterMs).catch(() => {});
  }

  /** Claim → call → finish (or retry later), for a run admitted to a slot. */
  async function attempt(job: RunJobData): Promise<AttemptResult> {
    const run = await store.claim(job.runId, laneOf(job));
    if (!run) return NOTHING_DONE; // canceled, or ended by an earlier job
    const prepared = await prepareCall(run);
    if (prepared.kind === "end") return { ...NOTHING_DONE, endedRun: await finish(run, prepared) };

    const result = await deps.runner.execute(prepared.call);
    const judged = judgeResponse(run, prepared.spec, result, prepared.sensitive);
    await reportToConnection(run, job.connectionId, result, prepared.sensitive);
    const pacing = {
      pace: result.ok ? "ok" as const : result.error.code === "UPSTREAM_RATE_LIMITED" ? "slow" as const : null,
      limits: run.connection ? { minRps: run.connection.rate_min_rps, maxRps: run.connection.rate_max_rps } : null,
    };
    if (judged.kind === "retry") return { ...pacing, endedRun: false, retryInMs: (await retryLater(run, judged)) ? judged.delayMs : null };
    return { ...pacing, endedRun: await finish(run, judged), retryInMs: null };
  }

  /**
   * Moves the job to BullMQ's delayed set. BullMQ's contract for a processor that moved its own job: throw
   * `DelayedError`, so that the worker neither completes nor fails it. The only throw of this sequence, at its edge.
   */
  async function delayJob(job: Job<RunJobData>, token: string | undefined, ms: number): Promise<never> {
    await job.moveToDelayed(Date.now() + ms, token);
    throw new DelayedError();
  }

  return async function processRun(job: Job<RunJobData>, token?: string): Promise<void> {
    const { runId, workspaceId, connectionId } = job.data;
    const admission = await fairness.admit(workspaceId, runId, connectionId, laneOf(job.data));
    if (!admission.admitted) {
      const ms = waitMs(admission);
      await store.noteWaiting(runId, admission.reason, WAIT_TEXT[admission.reason], ms).catch(() => {});
      return delayJob(job, token, ms);
    }
    // The slot is given back whatever happens, with how the attempt went.
    let result = NOTHING_DONE;
    try {
      result = await attempt(job.data);
    } finally {
      await fairness.release(workspaceId, runId, result.endedRun, { connectionId, pace: result.pace, limits: result.limits }, laneOf(job.data)).catch(() => {});
    }
    if (result.retryInMs !== null) await delayJob(job, token, result.retryInMs);
  };
}
