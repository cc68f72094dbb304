import { DelayedError, type Job } from "bullmq";
import type pg from "pg";
import type { Logger } from "@nagent/logger";
import type { Registry } from "@nagent/registry";
import type { Runner, CallResult } from "@nagent/runner";
import { retryDelayMs, type BackoffOptions } from "@nagent/runner";
import type { RunStore, ClaimedRun, Envelope } from "@nagent/runs";
import type { Fairness, RunJobData } from "@nagent/queue";
import { CONNECTION_CREDENTIALS, isVaultError, type Vault } from "@nagent/vault";
import { markConnectionInvalid } from "./connection-status";

export interface ProcessRunDeps {
  readonly pool: pg.Pool;
  readonly store: RunStore;
  readonly registry: Registry;
  readonly vault: Vault;
  readonly runner: Runner;
  readonly fairness: Fairness;
  readonly logger: Logger;
  /** Attempts of a run, the first included, before a retryable failure becomes final. */
  readonly maxAttempts: number;
  readonly backoff?: BackoffOptions;
  /** Called once per run that ended here (for metrics). */
  readonly onRunFinished?: (run: FinishedRun) => void;
  /** The platform's public origin: Scale tasks created without a callback_url get the connection's inbound URL. */
  readonly publicUrl?: string;
}

export interface FinishedRun {
  readonly action: string;
  readonly integration: string;
  readonly status: "succeeded" | "failed";
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

  async function delay(job: Job<RunJobData>, token: string | undefined, ms: number, reason: string): Promise<never> {
    await store.noteWaiting(job.data.runId, reason, ms).catch(() => {});
    await job.moveToDelayed(Date.now() + ms, token);
    throw new DelayedError();
  }

  async function end(run: ClaimedRun, status: "succeeded" | "failed", envelope: Envelope, attempt: { upstreamStatus: number | null; latencyMs: number | null }): Promise<void> {
    const error = envelope.error;
    const ended = await store.finish(run, {
      status,
      envelope,
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
  async function withInboundCallback(run: ClaimedRun, params: Readonly<Record<string, unknown>>): Promise<Readonly<Record<string, unknown>>> {
    if (deps.publicUrl === undefined || run.integration !== "scale_ai" || !("callback_url" in params) || run.input["callback_url"] !== undefined) return run.input;
    const { rows } = await deps.pool.query<{ inbound_token: string }>(
      `SELECT inbound_token FROM connection WHERE id = $1 AND workspace_id = $2 AND events_mode = 'callback' AND callback_auth_hint IS NOT NULL AND inbound_token IS NOT NULL`,
      [run.connection_id, run.workspace_id]);
    const token = rows[0]?.inbound_token;
    return token ? { ...run.input, callback_url: `${deps.publicUrl}/v1/inbound/scale_ai/${token}` } : run.input;
  }

  async function callUpstream(run: ClaimedRun): Promise<CallResult | null> {
    const spec = deps.registry.getRunSpec(run.action);
    if (!spec) {
      await fail(run, "ACTION_UNAVAILABLE", `The action ${run.action} is no longer in the registry.`);
      return null;
    }
    if (!run.connection || !run.connection_id) {
      await fail(run, "CONNECTION_NOT_FOUND", "The run's connection was deleted.");
      return null;
    }
    if (run.connection.status !== "active") {
      await fail(run, "CONNECTION_INVALID", "The connection's credentials were rejected by the upstream; replace them (PATCH /v1/connections/:id).");
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
    return deps.runner.execute({
      spec,
      input: await withInboundCallback(run, spec.params),
      credentials,
      baseUrl: run.connection.base_url ?? spec.base_url,
      mayHaveReachedUpstream: run.attempt > 1,
    });
  }

  return async function processRun(job: Job<RunJobData>, token?: string): Promise<void> {
    const { runId, workspaceId, connectionId } = job.data;
    const admission = await fairness.admit(workspaceId, runId, connectionId);
    if (!admission.admitted) {
      if (admission.reason === "workspace_cap") {
        await delay(job, token, SLOT_RETRY_MS + Math.round(Math.random() * SLOT_RETRY_MS), "waiting for a slot of the workspace's concurrency cap");
      }
      await delay(job, token, admission.waitMs + Math.round(Math.random() * Math.min(250, admission.waitMs)), "waiting for the connection's rate limit");
    }
    try {
      const run = await store.claim(runId);
      if (!run) return; // canceled, or ended by an earlier job: nothing to do
      if (run.attempt > deps.maxAttempts) {
        await fail(run, "ATTEMPTS_EXHAUSTED", `Gave up after ${deps.maxAttempts} attempts (a worker stopped during the last one).`);
        return;
      }

      const result = await callUpstream(run);
      if (!result) return;
      if (result.ok) {
        const check = deps.registry.validateOutput(run.action, result.data);
        if (!check.valid) logger.warn({ runId, action: run.action, problems: check.errors.slice(0, 5) }, "upstream answer does not match the action's output schema");
        await end(run, "succeeded", { data: result.data, error: null, successful: true }, { upstreamStatus: result.status, latencyMs: result.latencyMs });
        return;
      }

      const { error } = result;
      if (error.code === "UPSTREAM_UNAUTHORIZED") {
        await markConnectionInvalid(deps.pool, run.workspace_id, connectionId, error.message).catch((e: Error) => logger.error({ err: e }, "could not mark connection invalid"));
      }
      const retrying = error.retryable && run.attempt < deps.maxAttempts;
      const ms = retryDelayMs(run.attempt, result.retryAfterMs, deps.backoff);
      if (error.code === "UPSTREAM_RATE_LIMITED") {
        // Slow down every run of this connection, not only this one, for as long as this run waits.
        await fairness.pauseConnection(connectionId, result.retryAfterMs ?? ms).catch(() => {});
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
      await fairness.release(workspaceId, runId, ended).catch(() => {});
    }
  };
}
