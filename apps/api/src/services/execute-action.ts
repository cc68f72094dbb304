import { AppError, notFound } from "@nagent/errors";
import { uuidv7 } from "@nagent/db";
import type { Logger } from "@nagent/logger";
import { maskSensitive, type Registry } from "@nagent/registry";
import type { Vault } from "@nagent/vault";
import type { RunProducer } from "@nagent/queue";
import { isTerminal, requestHash, RUN_SENSITIVE_INPUT, type Envelope, type RunEventHub, type RunRow, type RunStore, type RunWatch } from "@nagent/runs";
import { checkOutboundUrl, type EgressPolicy } from "@nagent/runner";
import type { ConnectionService } from "./connections";

export interface ExecuteRequest {
  readonly connection_id?: string | undefined;
  readonly input: Record<string, unknown>;
  readonly mode?: "sync" | "async" | undefined;
  /** "api" (the default) or "mcp": recorded on the run. */
  readonly source?: "api" | "mcp" | undefined;
  /** The MCP tool set the call came through; recorded on the run. */
  readonly toolset_id?: string | null | undefined;
}

export type ExecuteResult =
  | { readonly kind: "finished"; readonly runId: string; readonly envelope: Envelope; readonly replayed: boolean }
  | { readonly kind: "pending"; readonly runId: string; readonly status: string; readonly replayed: boolean };

export interface ExecuteDeps {
  readonly registry: Registry;
  readonly connections: ConnectionService;
  readonly store: RunStore;
  readonly producer: RunProducer;
  readonly events: RunEventHub;
  readonly egress: EgressPolicy;
  readonly logger: Logger;
  /** Seals the input values an action marks sensitive (writeOnly / x-sensitive) while the run may call the upstream. */
  readonly vault: Vault;
  /** How long a sync execute waits for the run to end before answering 202. */
  readonly syncTimeoutMs: number;
  /** Called once per run created (not for replays), right after its row is written (for metrics). */
  readonly onRunStarted?: (run: { readonly integration: string; readonly action: string }) => void;
}

/** Input properties holding URLs (or emails) the upstream will call or fetch; checked against the egress policy. */
const OUTBOUND_URL_FIELDS = new Set(["callback_url", "callback", "file_url"]);
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * One execute call: validate the input against the action's current schema (before anything is stored), honour the
 * Idempotency-Key, resolve the connection, write the run, enqueue it after the write, and in sync mode wait (bounded)
 * for its envelope.
 */
export function createExecuteAction(deps: ExecuteDeps) {
  const { registry, store } = deps;

  function validate(slug: string, input: Record<string, unknown>) {
    const result = registry.validateInput(slug, input);
    if (!result.valid) {
      const details = result.errors.map((e) => ({ in: "body", path: `/input${e.path}`, message: e.message, keyword: e.keyword }));
      throw new AppError("VALIDATION_FAILED", `The input does not match ${slug}'s schema: ${details[0]?.path ?? "/input"} ${details[0]?.message ?? "is invalid"}.`, { details });
    }
    const problems: { in: string; path: string; message: string; keyword: string }[] = [];
    const spec = registry.getRunSpec(slug);
    for (const [name, value] of Object.entries(input)) {
      if (OUTBOUND_URL_FIELDS.has(name) && typeof value === "string" && !(name !== "file_url" && EMAIL.test(value))) {
        const check = checkOutboundUrl(value, deps.egress);
        if (!check.ok) problems.push({ in: "body", path: `/input/${name}`, message: check.reason, keyword: "egress" });
      }
      if (spec?.params[name]?.in === "file") {
        const content = (value as { content_base64?: unknown }).content_base64;
        if (typeof content !== "string" || content.length % 4 !== 0 || !BASE64.test(content)) {
          problems.push({ in: "body", path: `/input/${name}/content_base64`, message: "must be standard base64", keyword: "contentEncoding" });
        }
      }
    }
    if (problems.length > 0) throw new AppError("VALIDATION_FAILED", `The input is not acceptable: ${problems[0]!.path} ${problems[0]!.message}.`, { details: problems });
  }

  /**
   * The answer for a run: at once in async mode or when it already ended; in sync mode after its terminal event (which
   * carries small envelopes, sparing a read) or the bound. `watch` was opened before the run could end.
   */
  async function answer(workspaceId: string, run: RunRow, mode: "sync" | "async", replayed: boolean, watch?: RunWatch): Promise<ExecuteResult> {
    let current = run;
    if (mode === "sync" && !isTerminal(current.status)) {
      const w = watch ?? deps.events.watch(run.id);
      const event = await w.terminal(deps.syncTimeoutMs, async () => (await store.get(workspaceId, run.id))?.status ?? null, { checkNow: watch === undefined });
      if (event && event !== "ended" && event.output) return { kind: "finished", runId: run.id, envelope: event.output, replayed };
      // Past the bound, or the run ended unseen. A sync execute inserted its run without waiting for the disk (its
      // answer normally follows the durable finish): answering with a run id that may still run promises the run, so
      // make its insert durable first, then read it (a PostgreSQL crash in between would have lost it, unseen).
      await store.flushCommits();
      const durable = await store.get(workspaceId, run.id);
      if (!durable) throw new AppError("SERVICE_UNAVAILABLE", "The run could not be recorded (the database restarted); send the request again.");
      current = durable;
    } else {
      watch?.cancel();
    }
    if (isTerminal(current.status) && current.output) return { kind: "finished", runId: current.id, envelope: current.output, replayed };
    return { kind: "pending", runId: current.id, status: current.status, replayed };
  }

  /**
   * The input as the run stores it. A create reconciled by unique_id gets one when the caller gave none
   * (`nagent_<run id>`, recorded as platform-assigned), so a retry after a lost answer can always find what the first
   * attempt created. Values the action marks sensitive are masked in the stored input and sealed by the vault for the
   * worker, which puts them back for the call only.
   */
  async function prepareInput(workspaceId: string, runId: string, slug: string, given: Record<string, unknown>) {
    const spec = registry.getRunSpec(slug);
    let input = given;
    const assigned: string[] = [];
    const reconcile = spec?.reconcile;
    if (typeof reconcile === "object" && reconcile.by === "unique_id" && given[reconcile.input] === undefined) {
      input = { ...given, [reconcile.input]: `nagent_${runId}` };
      assigned.push(reconcile.input);
    }
    const { masked, taken } = maskSensitive(input, spec?.sensitive.input ?? []);
    const sealed = taken.length === 0 ? null : await deps.vault.seal(workspaceId, JSON.stringify(taken), { connectionId: runId, purpose: RUN_SENSITIVE_INPUT });
    return { input: masked as Record<string, unknown>, assigned, sealed };
  }

  return async function executeAction(workspaceId: string, slug: string, request: ExecuteRequest, idempotencyKey: string | undefined): Promise<ExecuteResult> {
    const action = registry.getAction(slug);
    if (!action) throw notFound(`Action ${slug}`);
    validate(slug, request.input);
    const mode = request.mode ?? "sync";
    const hash = idempotencyKey === undefined ? null : requestHash({ action: slug, connectionId: request.connection_id ?? null, input: request.input });
    const replay = (run: RunRow) => {
      if (run.request_hash !== hash) {
        throw new AppError("IDEMPOTENCY_KEY_REUSED", "This Idempotency-Key was used with a different request; use a new key for a new request.");
      }
      return answer(workspaceId, run, mode, true);
    };
    if (idempotencyKey !== undefined) {
      // A replay answers the original run even if its connection changed since.
      const existing = await store.findByIdempotencyKey(workspaceId, idempotencyKey);
      if (existing) return replay(existing);
    }

    const id = uuidv7();
    const prepared = await prepareInput(workspaceId, id, slug, request.input);
    const newRun = {
      id, workspaceId, connectionId: request.connection_id ?? null, integration: action.integration, action: slug,
      schemaVersion: action.schema_version ?? 1, input: prepared.input, idempotencyKey: idempotencyKey ?? null, requestHash: hash,
      platformAssigned: prepared.assigned, sealedInput: prepared.sealed,
      source: request.source ?? "api", toolsetId: request.toolset_id ?? null,
      // A sync answer follows the run's durable finish, or flushCommits (see answer).
      durable: mode === "async",
    };
    // One statement resolves the connection and writes the run (the hot path); only when no usable connection matched
    // does resolveForRun run, to answer the precise error (404, 409 CONNECTION_REQUIRED / CONNECTION_INVALID, 400).
    // The queue priority is reserved in Redis while PostgreSQL writes the row: the two round trips overlap.
    const reservation = deps.producer.reserve(workspaceId).then((priority) => ({ priority }), (error: unknown) => ({ error }));
    const unreserve = async () => {
      if ("priority" in (await reservation)) await deps.producer.unreserve(workspaceId).catch(() => {});
    };
    let inserted = await store.insert(newRun).catch(async (error: unknown) => {
      await unreserve();
      throw error;
    });
    if (!inserted.created && inserted.run === null) {
      try {
        await deps.connections.resolveForRun(workspaceId, action.integration, request.connection_id);
        inserted = await store.insert(newRun); // the connection became usable in between
        if (!inserted.created && inserted.run === null) throw new AppError("CONNECTION_REQUIRED", "No usable connection for this run; check GET /v1/connections.");
      } catch (error) {
        await unreserve();
        throw error;
      }
    }
    // Another request with the same key won the insert race: answer its run.
    if (!inserted.created) {
      await unreserve();
      return replay(inserted.run!);
    }
    const connectionId = inserted.run.connection_id!;
    deps.onRunStarted?.({ integration: action.integration, action: slug });
    // Watch before enqueueing: the run may end before this request gets to wait for it.
    const watch = mode === "sync" ? deps.events.watch(id) : undefined;
    if (watch) await deps.events.ready();
    try {
      const reserved = await reservation;
      if ("error" in reserved) throw reserved.error;
      await deps.producer.enqueue({ runId: id, workspaceId, connectionId }, reserved.priority);
    } catch (error) {
      // The run is committed: the sweeper will enqueue it. The caller still gets its run id.
      deps.logger.warn({ runId: id, err: { message: (error as Error).message } }, "enqueue failed after commit; the sweeper will pick the run up");
    }
    return answer(workspaceId, inserted.run, mode, false, watch);
  };
}

export type ExecuteAction = ReturnType<typeof createExecuteAction>;
