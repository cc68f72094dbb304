import { DelayedError, type Job } from "bullmq";
import type pg from "pg";
import type { Logger } from "@nagent/logger";
import type { ActionRunSpec, Registry } from "@nagent/registry";
import { maskSensitive, restoreSensitive } from "@nagent/registry";
import type { Runner, CallResult } from "@nagent/runner";
import { retryDelayMs, type BackoffOptions } from "@nagent/runner";
import { RUN_SENSITIVE_INPUT, type RunStore, type ClaimedRun, type Envelope, type OutputCheck } from "@nagent/runs";
import type { Fairness, PaceLimits, PaceOutcome, RunJobData, WaitReason } from "@nagent/queue";
import { CONNECTION_CREDENTIALS, isVaultError, type Vault } from "@nagent/vault";
import { isUpstreamTrouble, type ConnectionHealth } from "./connection-status";

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

/** How long a run waits before asking again for a workspace slot (jittered so waiting runs spread out). */
const SLOT_RETRY_MS = 250;

/**
 * The run processor: one attempt of one run per job execution. Waits (workspace cap, connection rate limit, planned
 * retries) move the job to BullMQ's delayed set and free the worker at once; the run row records why it waits. The run
 * ends exactly once: `finish` is guarded by the attempt number, and a job whose run is already over does nothing.
 */
export function createRunProcessor(deps: ProcessRunDeps) {
  const { store, fairness, logger } = deps;
  /** Runs that ended in this process and whose slot release must also count them done (see `release`). */
  const endedHere = new Set<string>();

  async function delay(job: Job<RunJobData>, token: string | undefined, ms: number, reason: WaitReason, text: string): Promise<never> {
    await store.noteWaiting(job.data.runId, reason, text, ms).catch(() => {});
    await job.moveToDelayed(Date.now() + ms, token);
    throw new DelayedError();
  }

  async function end(run: ClaimedRun, status: "succeeded" | "failed" | "unknown", envelope: Envelope, attempt: { upstreamStatus: number | null; latencyMs: number | null }, outputCheck?: OutputCheck): Promise<void> {
    const error = envelope.error;
    const ended = await store.finish(run, {
      status,
      envelope,
      outputCheck: outputCheck ?? null,
      outcome: status,
      upstreamStatus: attempt.upstreamStatus,
      latencyMs: attempt.latencyMs,
      errorCode: error?.code ?? null,
      errorMessage: error?.message ?? null,
    });
    if (ended === null) {
      logger.warn({ runId: run.id, attempt: run.attempt }, "run was taken over by another attempt; result dropped");
      return;
    }
    endedHere.add(run.id);
    deps.onRunFinished?.({
      action: run.action, integration: run.integration, status, errorCode: error?.code ?? null,
      attempts: run.attempt, durationMs: ended.durationMs, upstreamLatencyMs: attempt.latencyMs,
    });
  }

  const fail = (run: ClaimedRun, code: string, message: string) =>
    end(run, "failed", { data: null, error: { code, message, retryable: false }, successful: false }, { upstreamStatus: null, latencyMs: null });

  /**
   * Connect once, events flow: a Scale task created without a callback_url calls back the connection's inbound URL,
   * when the connection takes callbacks (events "callback" and a callback auth key to check them with). Added at send
   * time: the run's stored input stays what the caller sent.
   */
  async function withInboundCallback(run: ClaimedRun, params: Readonly<Record<string, unknown>>, input: Record<string, unknown>): Promise<Record<string, unknown>> {
    if (deps.publicUrl === undefined || run.integration !== "scale_ai" || !("callback_url" in params) || input["callback_url"] !== undefined) return input;
    const { rows } = await deps.pool.query<{ inbound_token: string }>(
      `SELECT inbound_token FROM connection WHERE id = $1 AND workspace_id = $2 AND events_mode = 'callback' AND callback_auth_hint IS NOT NULL AND inbound_token IS NOT NULL`,
      [run.connection_id, run.workspace_id]);
    const token = rows[0]?.inbound_token;
    return token ? { ...input, callback_url: `${deps.publicUrl}/v1/inbound/scale_ai/${token}` } : input;
  }

  /**
   * Ends a write whose attempt may have reached the upstream, unheard, and that cannot be repeated safely: `unknown`,
   * never retried blindly. The caller checks the upstream and records what it found (POST /v1/runs/:id/reconcile).
   */
  const endUnknown = (run: ClaimedRun, spec: ActionRunSpec, why: string, attempt: { upstreamStatus: number | null; latencyMs: number | null }) =>
    end(run, "unknown", {
      data: null,
      error: {
        code: "UPSTREAM_OUTCOME_UNKNOWN", retryable: false,
        message: `The upstream may have carried out this ${spec.http.method} ${spec.http.path} but no answer came back (${why}). It was not repeated: ` +
          `${run.action} ${spec.reconcile === "none" ? "cannot be reconciled" : "could not be reconciled"}. Check the upstream, then record what you found with POST /v1/runs/${run.id}/reconcile.`,
      },
      successful: false,
    }, attempt);

  /** The run's input as sent upstream: its sensitive values, stored sealed, put back into the masked input. */
  async function realInput(run: ClaimedRun): Promise<{ input: Record<string, unknown>; taken: [string, unknown][] }> {
    if (!run.sealed_input) return { input: run.input, taken: [] };
    // A data-key rotation that commits between the claim and this open re-sealed the column: read it again then.
    let reads = 0;
    const opened = await deps.vault.openLatest(run.workspace_id, { connectionId: run.id, purpose: RUN_SENSITIVE_INPUT }, async () => {
      if (reads++ === 0) return run.sealed_input!;
      const { rows } = await deps.pool.query<{ sealed_input: Buffer | null }>(`SELECT sealed_input FROM run WHERE id = $1 AND workspace_id = $2`, [run.id, run.workspace_id]);
      return rows[0]?.sealed_input ?? run.sealed_input!;
    });
    try {
      const taken = JSON.parse(opened.toString("utf8")) as [string, unknown][];
      return { input: restoreSensitive(run.input, taken), taken };
    } finally {
      opened.fill(0);
    }
  }

  async function callUpstream(run: ClaimedRun): Promise<{ result: CallResult; spec: ActionRunSpec; taken: [string, unknown][] } | null> {
    const spec = deps.registry.getRunSpec(run.action);
    if (!spec) {
      await fail(run, "ACTION_UNAVAILABLE", `The action ${run.action} is no longer in the registry.`);
      return null;
    }
    if (run.previousLost && spec.reconcile === "none") {
      await endUnknown(run, spec, `the worker of attempt ${run.attempt - 1} stopped during it`, { upstreamStatus: null, latencyMs: null });
      return null;
    }
    if (!run.connection || !run.connection_id) {
      await fail(run, "CONNECTION_NOT_FOUND", "The run's connection was deleted.");
      return null;
    }
    if (run.connection.status === "invalid") {
      await fail(run, "CONNECTION_INVALID", "The connection is invalid: the upstream rejected its credentials. Replace them (PATCH /v1/connections/:id with new credentials) or, if the key works again, test it (POST /v1/connections/:id/test); see GET /v1/connections/:id/events for why.");
      return null;
    }
    let secret: Buffer;
    let first = true;
    const connectionId = run.connection_id;
    try {
      secret = await deps.vault.openLatest(run.workspace_id, { connectionId, purpose: CONNECTION_CREDENTIALS }, async () => {
        if (first) {
          first = false;
          return run.connection!.ciphertext;
        }
        const { rows } = await deps.pool.query<{ ciphertext: Buffer }>(`SELECT ciphertext FROM connection WHERE id = $1 AND workspace_id = $2`, [connectionId, run.workspace_id]);
        if (!rows[0]) throw new Error("connection deleted");
        return rows[0].ciphertext;
      });
    } catch (error) {
      // Never log the error's detail: only its code.
      logger.warn({ runId: run.id, connectionId, code: isVaultError(error) ? error.code : "UNKNOWN" }, "connection secret could not be opened");
      await fail(run, "CONNECTION_UNREADABLE", "The connection's credentials cannot be opened (the workspace's keys were destroyed or the ciphertext does not belong to this connection); connect again.");
      return null;
    }
    let credentials: Record<string, string>;
    try {
      credentials = JSON.parse(secret.toString("utf8")) as Record<string, string>;
    } finally {
      secret.fill(0);
    }
    let input: { input: Record<string, unknown>; taken: [string, unknown][] };
    try {
      input = await realInput(run);
    } catch (error) {
      logger.warn({ runId: run.id, code: isVaultError(error) ? error.code : "UNKNOWN" }, "sealed input could not be opened");
      await fail(run, "INPUT_UNREADABLE", "The run's sensitive input values cannot be opened (the workspace's keys were destroyed, or the sealed value was altered, since it was queued); execute it again.");
      return null;
    }
    const result = await deps.runner.execute({
      spec,
      input: await withInboundCallback(run, spec.params, input.input),
      credentials,
      baseUrl: run.connection.base_url ?? spec.base_url,
      mayHaveReachedUpstream: run.attempt > 1,
    });
    return { result, spec, taken: input.taken };
  }

  /** An upstream message may echo a sensitive input value: mask it there too before it is stored. */
  function scrub(message: string, taken: readonly [string, unknown][]): string {
    let out = message;
    for (const [, value] of taken) if (typeof value === "string" && value.length >= 4) out = out.split(value).join("[redacted]");
    return out;
  }

  return async function processRun(job: Job<RunJobData>, token?: string): Promise<void> {
    const { runId, workspaceId, connectionId } = job.data;
    const admission = await fairness.admit(workspaceId, runId, connectionId);
    if (!admission.admitted) {
      if (admission.reason === "workspace_cap") {
        await delay(job, token, SLOT_RETRY_MS + Math.round(Math.random() * SLOT_RETRY_MS), "workspace_cap", "waiting for a slot of the workspace's concurrency cap");
      }
      // A reserved turn comes back exactly then; other waits are jittered so that waiting runs spread out.
      const ms = admission.reserved ? Math.max(1, admission.waitMs) : admission.waitMs + Math.round(Math.random() * Math.min(250, admission.waitMs));
      if (admission.reason === "connection_paused") await delay(job, token, ms, "connection_paused", "waiting: the upstream asked this connection to slow down (Retry-After)");
      await delay(job, token, ms, "rate_limit", "waiting for the connection's rate limit");
    }
    // How the attempt went, for the connection's adaptive pace (given back with the slot in `finally`).
    let pace: PaceOutcome = null;
    let limits: PaceLimits | null = null;
    try {
      const run = await store.claim(runId);
      if (!run) return; // canceled, or ended by an earlier job: nothing to do
      if (run.attempt > deps.maxAttempts) {
        // The last attempt's worker stopped during it: a write that is not idempotent may have been carried out.
        const spec = deps.registry.getRunSpec(run.action);
        if (spec && run.previousLost && spec.reconcile !== "idempotent") {
          await endUnknown(run, spec, `the worker of attempt ${run.attempt - 1}, the last allowed, stopped during it`, { upstreamStatus: null, latencyMs: null });
        } else {
          await fail(run, "ATTEMPTS_EXHAUSTED", `Gave up after ${deps.maxAttempts} attempts (a worker stopped during the last one).`);
        }
        return;
      }

      const called = await callUpstream(run);
      if (!called) return;
      const { result, spec } = called;
      limits = run.connection ? { minRps: run.connection.rate_min_rps, maxRps: run.connection.rate_max_rps } : null;
      pace = result.ok ? "ok" : result.error.code === "UPSTREAM_RATE_LIMITED" ? "slow" : null;
      if (result.ok && run.connection?.status === "degraded") await deps.health.recovered(run.workspace_id, connectionId);
      if (!result.ok && isUpstreamTrouble(result.error.code, result.error.upstream_status)) await deps.health.trouble(run.workspace_id, connectionId, `${result.error.code}${result.error.upstream_status ? ` ${result.error.upstream_status}` : ""}: ${result.error.message}`);
      if (result.ok) {
        // The answer checked against the output schema, recorded on the run (and counted); in a strict workspace a
        // mismatch fails the run, the data kept for inspection. Sensitive output fields are masked before storing.
        const check = deps.registry.validateOutput(run.action, result.data);
        const outputCheck: OutputCheck = check.valid
          ? { valid: true, problems: [] }
          : { valid: false, problems: check.errors.slice(0, 10).map((e) => ({ path: e.path, message: e.message })) };
        deps.onOutputChecked?.({ action: run.action, integration: run.integration, valid: check.valid });
        const data = maskSensitive(result.data, spec.sensitive.output).masked;
        const attempt = { upstreamStatus: result.status, latencyMs: result.latencyMs };
        if (!check.valid) {
          logger.warn({ runId, action: run.action, problems: outputCheck.problems.map((p) => p.path).slice(0, 10), strict: run.outputCheckMode === "strict" }, "upstream answer does not match the action's output schema");
          if (run.outputCheckMode === "strict") {
            const first = outputCheck.problems[0];
            await end(run, "failed", {
              data,
              error: { code: "OUTPUT_SCHEMA_MISMATCH", retryable: false, upstream_status: result.status, message: `The upstream answer does not match ${run.action}'s output schema (${outputCheck.problems.length} problem(s), first: ${first ? `${first.path || "/"} ${first.message}` : "unknown"}); the workspace's output check is strict. The answer is kept in data for inspection.` },
              successful: false,
            }, attempt, outputCheck);
            return;
          }
        }
        await end(run, "succeeded", { data, error: null, successful: true }, attempt, outputCheck);
        return;
      }

      const error = { ...result.error, message: scrub(result.error.message, called.taken) };
      if (error.code === "UPSTREAM_UNAUTHORIZED") {
        await deps.health.rejected(run.workspace_id, connectionId, `a run was refused (${error.upstream_status ?? 401}): ${error.message}`);
      }
      const retrying = error.retryable && run.attempt < deps.maxAttempts;
      // A write whose attempt may have reached the upstream unheard: repeat it only when the repeat is safe (idempotent)
      // or finds what the first one did (unique_id, read_back); otherwise, or when no attempt is left, its outcome is
      // unknown — never a false failure, never a blind retry.
      if (result.mayHaveReached && spec.reconcile !== "idempotent" && (spec.reconcile === "none" || !retrying)) {
        await endUnknown(run, spec, `${error.code}${error.upstream_status ? ` ${error.upstream_status}` : ""}: ${error.message}`, { upstreamStatus: error.upstream_status ?? null, latencyMs: result.latencyMs });
        return;
      }
      const ms = retryDelayMs(run.attempt, result.retryAfterMs, deps.backoff);
      if (error.code === "UPSTREAM_RATE_LIMITED" && result.retryAfterMs !== undefined) {
        // The upstream said until when: pause every run of this connection, not only this one. (A bare 429 only
        // lowers the connection's pace, in `release`.)
        await fairness.pauseConnection(connectionId, result.retryAfterMs).catch(() => {});
      }
      if (retrying) {
        const reason = `attempt ${run.attempt} of ${deps.maxAttempts} failed (${error.code}${error.upstream_status ? ` ${error.upstream_status}` : ""}); retrying in ${(ms / 1000).toFixed(1)} s`;
        const requeued = await store.retryLater(run, {
          outcome: "retry", delayMs: ms, reason, upstreamStatus: error.upstream_status ?? null, latencyMs: result.latencyMs, errorCode: error.code, errorMessage: error.message,
        });
        if (!requeued) return;
        await job.moveToDelayed(Date.now() + ms, token);
        throw new DelayedError();
      }
      await end(run, "failed", { data: null, error, successful: false }, { upstreamStatus: error.upstream_status ?? null, latencyMs: result.latencyMs });
    } finally {
      const ended = endedHere.delete(runId);
      await fairness.release(workspaceId, runId, ended, { connectionId, pace, limits }).catch(() => {});
    }
  };
}
