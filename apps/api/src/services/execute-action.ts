import { AppError, notFound } from "@nagent/errors";
import { uuidv7 } from "@nagent/db";
import type { Logger } from "@nagent/logger";
import type { Registry } from "@nagent/registry";
import type { Vault } from "@nagent/vault";
import type { RunProducer } from "@nagent/queue";
import { isTerminal, requestHash, type Envelope, type InsertedRun, type InsertOutcome, type NewRun, type RunEventHub, type RunRow, type RunStore, type RunWatch } from "@nagent/runs";
import type { EgressPolicy } from "@nagent/runner";
import type { ConnectionService } from "./connections";
import { checkExecuteInput, prepareRunInput } from "./execute-input";

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

type Mode = "sync" | "async";
/** A run written by this call (watched, in sync mode, since before it was enqueued), or the run another call wrote. */
type Queued = { readonly kind: "created"; readonly run: InsertedRun; readonly watch: RunWatch | null } | Extract<InsertOutcome, { kind: "existing" }>;

/**
 * One execute call, in five steps:
 *
 *   validate     the input against the action's current schema and the input rules, before anything is stored
 *   idempotency  an Idempotency-Key seen before answers its run (a replay)
 *   insert       one statement resolves the connection and writes the run; the queue turn is reserved meanwhile
 *   enqueue      the run's job, on that turn, after the row is committed
 *   wait         sync mode: for the run's terminal event, bounded by NAGENT_SYNC_TIMEOUT_MS; async: answer at once
 *
 * A step that refuses the request throws an `AppError` (rendered by the error handler); nothing else throws.
 *
 * Durability: an async run's insert waits for the disk, as its answer promises the run. A sync run's insert does not
 * (its commit is flushed with the worker's durable finish, which comes first in WAL order); a sync answer given
 * without that finish — past the bound — flushes the insert first (`store.flushCommits`), so no answer names a run
 * that a PostgreSQL crash could lose.
 */
export function createExecuteAction(deps: ExecuteDeps) {
  const { registry, store, producer, logger } = deps;

  const finished = (runId: string, envelope: Envelope, replayed: boolean): ExecuteResult => ({ kind: "finished", runId, envelope, replayed });
  /** The answer a run's row gives now: its envelope once it ended, else its status. */
  const answerOf = (run: Pick<RunRow, "id" | "status" | "output">, replayed: boolean): ExecuteResult =>
    isTerminal(run.status) && run.output ? finished(run.id, run.output, replayed) : { kind: "pending", runId: run.id, status: run.status, replayed };

  function findAction(slug: string): NonNullable<ReturnType<Registry["getAction"]>> {
    const action = registry.getAction(slug);
    if (!action) throw notFound(`Action ${slug}`);
    return action;
  }

  /** Waits for a sync run's end; past the bound (or when it ended unseen), answers what its durable row says. */
  async function waitForEnd(workspaceId: string, run: Pick<RunRow, "id">, watch: RunWatch, options: { checkNow: boolean; replayed: boolean }): Promise<ExecuteResult> {
    const event = await watch.terminal(deps.syncTimeoutMs, async () => (await store.get(workspaceId, run.id))?.status ?? null, { checkNow: options.checkNow });
    // A terminal event carries small envelopes, sparing a read.
    if (event && event !== "ended" && event.output) return finished(run.id, event.output, options.replayed);
    await store.flushCommits(); // see Durability above
    const durable = await store.get(workspaceId, run.id);
    if (!durable) throw new AppError("SERVICE_UNAVAILABLE", "The run could not be recorded (the database restarted); send the request again.");
    return answerOf(durable, options.replayed);
  }

  /** A replay answers the original run (even if its connection changed since), when the request is the same. */
  function replay(run: RunRow, hash: string | null, mode: Mode): Promise<ExecuteResult> | ExecuteResult {
    if (run.request_hash !== hash) {
      throw new AppError("IDEMPOTENCY_KEY_REUSED", "This Idempotency-Key was used with a different request; use a new key for a new request.");
    }
    if (mode === "async" || isTerminal(run.status)) return answerOf(run, true);
    return waitForEnd(run.workspace_id, run, deps.events.watch(run.id), { checkNow: true, replayed: true });
  }

  /**
   * Writes the run, bound to its connection. Only when no usable connection matched does `resolveForRun` run, off
   * the hot path, to throw the precise error (404, 409 CONNECTION_REQUIRED / CONNECTION_INVALID, 400); when it finds
   * one (it became usable in between), the insert is tried once more.
   */
  async function insertRun(run: NewRun): Promise<Exclude<InsertOutcome, { kind: "no_connection" }>> {
    const first = await store.insert(run);
    if (first.kind !== "no_connection") return first;
    await deps.connections.resolveForRun(run.workspaceId, run.integration, run.connectionId ?? undefined);
    const second = await store.insert(run);
    if (second.kind === "no_connection") throw new AppError("CONNECTION_REQUIRED", "No usable connection for this run; check GET /v1/connections.");
    return second;
  }

  /**
   * Insert, then enqueue. The queue turn (the job's priority) is reserved in Redis while PostgreSQL writes the row,
   * so the two round trips overlap; it is given back when no run was written. A sync run is watched before its job
   * exists: it may end before this request gets to wait for it.
   */
  async function insertAndEnqueue(run: NewRun, mode: Mode): Promise<Queued> {
    const { workspaceId } = run;
    // null: Redis did not answer (the enqueue below is then skipped and logged).
    const turn = producer.reserve(workspaceId, mode === "sync" ? "express" : "bulk").catch(() => null);
    let inserted: Awaited<ReturnType<typeof insertRun>> | undefined;
    try {
      inserted = await insertRun(run);
    } finally {
      if (inserted?.kind !== "created" && (await turn) !== null) await producer.unreserve(workspaceId).catch(() => {});
    }
    if (inserted.kind === "existing") return inserted;
    const created = inserted.run;
    const watch = mode === "sync" ? deps.events.watch(run.id) : null;
    if (watch) await deps.events.ready();
    // The run is committed: when Redis fails now, the sweeper enqueues it, and the caller still gets its run id.
    const priority = await turn;
    const failure = priority === null
      ? "the queue turn could not be reserved"
      : await producer.enqueue({ runId: run.id, workspaceId, connectionId: created.connection_id, ...(mode === "sync" ? { sync: true as const } : {}) }, priority).then(() => null, (error: Error) => error.message);
    if (failure !== null) logger.warn({ runId: run.id, err: { message: failure } }, "enqueue failed after commit; the sweeper will pick the run up");
    return { kind: "created", run: created, watch };
  }

  return async function executeAction(workspaceId: string, slug: string, request: ExecuteRequest, idempotencyKey: string | undefined): Promise<ExecuteResult> {
    const action = findAction(slug);
    checkExecuteInput(registry, deps.egress, slug, request.input);
    const mode = request.mode ?? "sync";
    const hash = idempotencyKey === undefined ? null : requestHash({ action: slug, connectionId: request.connection_id ?? null, input: request.input });
    if (idempotencyKey !== undefined) {
      const earlier = await store.findByIdempotencyKey(workspaceId, idempotencyKey);
      if (earlier) return replay(earlier, hash, mode);
    }

    const id = uuidv7();
    const input = await prepareRunInput(registry, deps.vault, workspaceId, id, slug, request.input);
    const queued = await insertAndEnqueue({
      id, workspaceId, connectionId: request.connection_id ?? null, integration: action.integration, action: slug,
      schemaVersion: action.schema_version ?? 1, input: input.input, idempotencyKey: idempotencyKey ?? null, requestHash: hash,
      platformAssigned: input.assigned, sealedInput: input.sealed,
      source: request.source ?? "api", toolsetId: request.toolset_id ?? null,
      durable: mode === "async", // see Durability above
    }, mode);
    if (queued.kind === "existing") return replay(queued.run, hash, mode); // another request with the same key won the insert
    deps.onRunStarted?.({ integration: action.integration, action: slug });
    return queued.watch ? waitForEnd(workspaceId, queued.run, queued.watch, { checkNow: false, replayed: false }) : answerOf(queued.run, false);
  };
}

export type ExecuteAction = ReturnType<typeof createExecuteAction>;
