import type pg from "pg";
import type { Logger } from "@nagent/logger";
import type { Registry } from "@nagent/registry";
import type { BackoffOptions, CallResult, Runner } from "@nagent/runner";
import type { ClaimedRun, Envelope, RunStore } from "@nagent/runs";
import type { Admission, Fairness, Lane, PaceLimits, PaceOutcome, RunJobData, WaitReason } from "@nagent/queue";
import type { Vault } from "@nagent/vault";
import { isUpstreamTrouble, type ConnectionHealth } from "./connection-status";
import { createCallPreparer } from "./prepare-call";
import { createResponseJudge, scrub } from "./judge-response";
import type { RetryPlan, RunEnding } from "./run-endings";

export interface AttemptDeps {
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
  /** The envelope the run ended with, as stored; null when this attempt did not end the run. */
  readonly envelope: Envelope | null;
  /** How the upstream took the call, for the connection's adaptive pace. */
  readonly pace: PaceOutcome;
  readonly limits: PaceLimits | null;
  /** Set when the run waits for another attempt: the job comes back after this many ms. */
  readonly retryInMs: number | null;
}

const NOTHING_DONE: AttemptResult = { endedRun: false, envelope: null, pace: null, limits: null, retryInMs: null };

/** How one admitted attempt went, for whoever runs it (the worker's job, or the API's inline sync execute). */
export interface AttemptOutcome {
  /** The envelope the run ended with, as stored; null when this attempt did not end it (see retryInMs). */
  readonly envelope: Envelope | null;
  /** The run waits for another attempt, due in this many ms (its job must come back then); else null. */
  readonly retryInMs: number | null;
}

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
 * One attempt of one run, in four steps —
 *
 *   admit (a workspace slot and a turn of the connection's pace)  →  claim (the run row: queued → running)
 *     →  call (prepare: credentials and sealed input opened; the upstream called; its answer judged)
 *     →  finish (the run ended exactly once, guarded by its attempt number) or retry later.
 *
 * Two callers run attempts: the worker's BullMQ processor (apps/worker/src/process-run.ts), for every queued run and
 * retry, and the API's sync execute, which runs a run's first attempt itself when a slot is free at once (see
 * apps/api/src/services/execute-action.ts). Both go through these same steps, so a run is claimed, called and ended
 * the same way whoever holds it. A run whose claim finds it over (canceled, or ended by an earlier attempt) does
 * nothing.
 */
export function createRunAttempts(deps: AttemptDeps) {
  const { store, fairness, logger } = deps;
  const prepareCall = createCallPreparer(deps);
  const judgeResponse = createResponseJudge(deps);

  /** The run's status, its attempt row, its event and the metrics: written once, by the attempt that holds the run. */
  async function finish(run: ClaimedRun, ending: RunEnding): Promise<Envelope | null> {
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
      return null;
    }
    deps.onRunFinished?.({
      action: run.action, integration: run.integration, status: ending.status, errorCode: error?.code ?? null,
      attempts: run.attempt, durationMs: ended.durationMs, upstreamLatencyMs: ending.facts.latencyMs,
    });
    return ended.envelope;
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

  /** Claim (unless the run came claimed) → call → finish (or retry later), for a run admitted to a slot. */
  async function attempt(job: RunJobData, claimed: ClaimedRun | undefined, holder: string): Promise<AttemptResult> {
    const run = claimed ?? await store.claim(job.runId, laneOf(job), holder);
    if (!run) return NOTHING_DONE; // canceled, ended by an earlier job, or held by another job
    const prepared = await prepareCall(run);
    if (prepared.kind === "end") return { ...NOTHING_DONE, ...ended(await finish(run, prepared)) };

    const result = await deps.runner.execute(prepared.call);
    const judged = judgeResponse(run, prepared.spec, result, prepared.sensitive);
    await reportToConnection(run, job.connectionId, result, prepared.sensitive);
    const pacing = {
      pace: result.ok ? "ok" as const : result.error.code === "UPSTREAM_RATE_LIMITED" ? "slow" as const : null,
      limits: run.connection ? { minRps: run.connection.rate_min_rps, maxRps: run.connection.rate_max_rps } : null,
    };
    if (judged.kind === "retry") return { ...pacing, endedRun: false, envelope: null, retryInMs: (await retryLater(run, judged)) ? judged.delayMs : null };
    return { ...pacing, ...ended(await finish(run, judged)), retryInMs: null };
  }

  return {
    /**
     * A workspace slot and a turn of the connection's pace, in one round trip. Admitted, the run holds the slot until
     * `run` gives it back; refused, nothing is held.
     */
    admit(job: RunJobData): Promise<Admission> {
      return fairness.admit(job.workspaceId, job.runId, job.connectionId, laneOf(job));
    },

    /** Records on the run why it waits after a refused admission, and answers how long its job should wait. */
    async noteWaiting(job: RunJobData, admission: Exclude<Admission, { admitted: true }>): Promise<number> {
      const ms = waitMs(admission);
      await store.noteWaiting(job.runId, admission.reason, WAIT_TEXT[admission.reason], ms).catch(() => {});
      return ms;
    },

    /** Gives back an admission that no attempt used (a sync execute's run was not claimed with it). */
    async giveBack(job: RunJobData): Promise<void> {
      await fairness.release(job.workspaceId, job.runId, false, undefined, laneOf(job)).catch(() => {});
    },

    /**
     * One attempt of an admitted run: claim, call, finish (or retry later); then the slot is given back, with how the
     * attempt went, whatever happens. `claimed`: the run was claimed already (a sync execute's insert claims it,
     * `store.insertClaimed`). `releaseLater`: answer without waiting for that release, which starts once the caller's
     * answer is sent (a sync execute; the release is a best-effort round trip that nobody waits on, and a lost one
     * expires with its lease; measured, `bench/execute` (c): finish → answer 191 → 64 µs at p50). `holder`: the id of
     * the queue job running the attempt, when it is not the run's own (a batch of runs; see the store's `claim`).
     * `counted: false`: the run is not among its workspace's pending runs (a sync execute's inline attempt, whose queue
     * turn is reserved only if it goes to the queue), so its end does not count it down.
     */
    async run(job: RunJobData, options: { claimed?: ClaimedRun | undefined; releaseLater?: boolean; holder?: string; counted?: boolean } = {}): Promise<AttemptOutcome> {
      let result = NOTHING_DONE;
      try {
        result = await attempt(job, options.claimed, options.holder ?? job.runId);
      } finally {
        const pacing = { connectionId: job.connectionId, pace: result.pace, limits: result.limits };
        const release = () => fairness.release(job.workspaceId, job.runId, result.endedRun && options.counted !== false, pacing, laneOf(job)).catch(() => {});
        // Later: after the caller's answer is on its way (the release's script call costs ~0.1 ms of this process's time).
        if (options.releaseLater) setImmediate(release);
        else await release();
      }
      return { envelope: result.envelope, retryInMs: result.retryInMs };
    },
  };
}

/** An attempt's result once `finish` answered: the run ended with its envelope, or another attempt holds it. */
function ended(envelope: Envelope | null): Pick<AttemptResult, "endedRun" | "envelope"> {
  return { endedRun: envelope !== null, envelope };
}

export type RunAttempts = ReturnType<typeof createRunAttempts>;
