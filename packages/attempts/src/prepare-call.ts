import type pg from "pg";
import type { Logger } from "@nagent/logger";
import { restoreSensitive, type ActionRunSpec, type Registry } from "@nagent/registry";
import type { ExecuteCall } from "@nagent/runner";
import { RUN_SENSITIVE_INPUT, type ClaimedRun } from "@nagent/runs";
import { readConnectionCiphertext } from "@nagent/db";
import { CONNECTION_CREDENTIALS, isVaultError, type Vault } from "@nagent/vault";
import { failed, unknownOutcome, type RunEnding } from "./run-endings";

export interface PrepareCallDeps {
  readonly pool: pg.Pool;
  readonly registry: Registry;
  readonly vault: Vault;
  readonly logger: Logger;
  /** Attempts of a run, the first included, before a retryable failure becomes final. */
  readonly maxAttempts: number;
  /** The platform's public origin: Scale tasks created without a callback_url get the connection's inbound URL. */
  readonly publicUrl?: string | undefined;
}

/** The upstream call to make, or how the run ends without one. */
export type PreparedCall =
  | {
      readonly kind: "call";
      readonly call: ExecuteCall;
      readonly spec: ActionRunSpec;
      /** The sensitive input values put back for the call (to scrub from upstream messages). */
      readonly sensitive: readonly [string, unknown][];
    }
  | RunEnding;

/** The claimed run's connection, known to be usable. */
type UsableConnection = NonNullable<ClaimedRun["connection"]> & { readonly id: string };
/** A value opened from the vault, or how the run ends when it cannot be. */
type Opened<T> = { readonly kind: "opened"; readonly value: T } | RunEnding;
/** The action and connection of a run that may call the upstream, or how it ends without a call. */
type Runnable = { readonly kind: "runnable"; readonly spec: ActionRunSpec; readonly connection: UsableConnection } | RunEnding;

/**
 * Everything between the claim and the upstream call: checks that end the run without a call, then the credentials
 * and the sealed input values opened (for this call only) and the request assembled. Each step answers a
 * `PreparedCall`; nothing here throws for a run's own problems.
 */
export function createCallPreparer(deps: PrepareCallDeps) {
  const { vault, logger } = deps;

  /** The run's sealed input as stored now (a data-key rotation may have re-sealed it since the claim read it). */
  async function readSealedInput(run: ClaimedRun): Promise<Buffer | null> {
    const { rows } = await deps.pool.query<{ sealed_input: Buffer | null }>(`SELECT sealed_input FROM run WHERE id = $1 AND workspace_id = $2`, [run.id, run.workspace_id]);
    return rows[0]?.sealed_input ?? null;
  }

  async function openCredentials(run: ClaimedRun, connection: UsableConnection): Promise<Opened<Record<string, string>>> {
    let secret: Buffer;
    try {
      secret = await vault.openLatest(run.workspace_id, { connectionId: connection.id, purpose: CONNECTION_CREDENTIALS }, connection.ciphertext,
        () => readConnectionCiphertext(deps.pool, run.workspace_id, connection.id));
    } catch (error) {
      // Never log the error's detail: only its code.
      logger.warn({ runId: run.id, connectionId: connection.id, code: isVaultError(error) ? error.code : "UNKNOWN" }, "connection secret could not be opened");
      return failed("CONNECTION_UNREADABLE", "The connection's credentials cannot be opened (the workspace's keys were destroyed or the ciphertext does not belong to this connection); connect again.");
    }
    try {
      return { kind: "opened", value: JSON.parse(secret.toString("utf8")) as Record<string, string> };
    } finally {
      secret.fill(0);
    }
  }

  /** The run's input as sent upstream: its sensitive values, stored sealed, put back into the masked input. */
  async function openInput(run: ClaimedRun): Promise<Opened<{ input: Record<string, unknown>; sensitive: [string, unknown][] }>> {
    if (!run.sealed_input) return { kind: "opened", value: { input: run.input, sensitive: [] } };
    let opened: Buffer;
    try {
      opened = await vault.openLatest(run.workspace_id, { connectionId: run.id, purpose: RUN_SENSITIVE_INPUT }, run.sealed_input, () => readSealedInput(run));
    } catch (error) {
      logger.warn({ runId: run.id, code: isVaultError(error) ? error.code : "UNKNOWN" }, "sealed input could not be opened");
      return failed("INPUT_UNREADABLE", "The run's sensitive input values cannot be opened (the workspace's keys were destroyed, or the sealed value was altered, since it was queued); execute it again.");
    }
    try {
      const sensitive = JSON.parse(opened.toString("utf8")) as [string, unknown][];
      return { kind: "opened", value: { input: restoreSensitive(run.input, sensitive), sensitive } };
    } finally {
      opened.fill(0);
    }
  }

  /**
   * Connect once, events flow: a Scale task created without a callback_url calls back the connection's inbound URL,
   * when the connection takes callbacks (events "callback" and a callback auth key to check them with). Added at send
   * time: the run's stored input stays what the caller sent.
   */
  async function withInboundCallback(run: ClaimedRun, spec: ActionRunSpec, input: Record<string, unknown>): Promise<Record<string, unknown>> {
    if (deps.publicUrl === undefined || run.integration !== "scale_ai" || !("callback_url" in spec.params) || input["callback_url"] !== undefined) return input;
    const { rows } = await deps.pool.query<{ inbound_token: string }>(
      `SELECT inbound_token FROM connection WHERE id = $1 AND workspace_id = $2 AND events_mode = 'callback' AND callback_auth_hint IS NOT NULL AND inbound_token IS NOT NULL`,
      [run.connection_id, run.workspace_id]);
    const token = rows[0]?.inbound_token;
    return token ? { ...input, callback_url: `${deps.publicUrl}/v1/inbound/scale_ai/${token}` } : input;
  }

  /** The checks that end a claimed run before any call: attempts used up, action gone, connection gone or invalid. */
  function checkRunnable(run: ClaimedRun): Runnable {
    const spec = deps.registry.getRunSpec(run.action);
    if (run.attempt > deps.maxAttempts) {
      // The last attempt's worker stopped during it: a write that is not idempotent may have been carried out.
      if (spec && run.previousLost && spec.reconcile !== "idempotent") {
        return unknownOutcome(run, spec, `the process running attempt ${run.attempt - 1}, the last allowed, stopped during it`);
      }
      return failed("ATTEMPTS_EXHAUSTED", `Gave up after ${deps.maxAttempts} attempts (the process running the last one stopped during it).`);
    }
    if (!spec) return failed("ACTION_UNAVAILABLE", `The action ${run.action} is no longer in the registry.`);
    if (run.previousLost && spec.reconcile === "none") return unknownOutcome(run, spec, `the process running attempt ${run.attempt - 1} stopped during it`);
    const { connection, connection_id: connectionId } = run;
    if (!connection || !connectionId) return failed("CONNECTION_NOT_FOUND", "The run's connection was deleted.");
    if (connection.status === "invalid") {
      return failed("CONNECTION_INVALID", "The connection is invalid: the upstream rejected its credentials. Replace them (PATCH /v1/connections/:id with new credentials) or, if the key works again, test it (POST /v1/connections/:id/test); see GET /v1/connections/:id/events for why.");
    }
    return { kind: "runnable", spec, connection: { ...connection, id: connectionId } };
  }

  return async function prepareCall(run: ClaimedRun): Promise<PreparedCall> {
    const runnable = checkRunnable(run);
    if (runnable.kind === "end") return runnable;
    const { spec, connection } = runnable;
    const credentials = await openCredentials(run, connection);
    if (credentials.kind === "end") return credentials;
    const opened = await openInput(run);
    if (opened.kind === "end") return opened;
    return {
      kind: "call",
      spec,
      sensitive: opened.value.sensitive,
      call: {
        spec,
        input: await withInboundCallback(run, spec, opened.value.input),
        credentials: credentials.value,
        baseUrl: connection.base_url ?? spec.base_url,
        mayHaveReachedUpstream: run.attempt > 1,
      },
    };
  };
}

export type PrepareCall = ReturnType<typeof createCallPreparer>;
