import { AppError, notFound } from "@nagent/errors";
import { uuidv7 } from "@nagent/db";
import type { Logger } from "@nagent/logger";
import type { Registry } from "@nagent/registry";
import type { Vault } from "@nagent/vault";
import type { Admission, RunJobData, RunProducer } from "@nagent/queue";
import type { RunAttempts } from "@nagent/attempts";
import { isTerminal, requestHash, type ClaimedRun, type Envelope, type InsertedRun, type InsertOutcome, type NewRun, type RunEventHub, type RunRow, type RunStore, type RunWatch } from "@nagent/runs";
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
  /**
   * Runs a sync execute's first attempt in this process, when a slot is free at once (see "Inline attempt" below);
   * null: every attempt goes through the queue (NAGENT_SYNC_INLINE=false).
   */
  readonly attempts: Pick<RunAttempts, "admit" | "noteWaiting" | "run" | "giveBack"> | null;
}

type Mode = "sync" | "async";
type Refusal = Exclude<Admission, { admitted: true }>;
/** A run written by this call, with its job and reserved queue turn (null: Redis did not answer). */
interface Created {
  readonly kind: "created";
  readonly run: InsertedRun;
  readonly job: RunJobData;
  readonly priority: number | null | undefined;
  /** A sync run its insert claimed for its first attempt (and admitted meanwhile). */
  readonly claimed: ClaimedRun | null;
  /** A sync run refused the admission asked with its insert (the workspace is at its cap, or the connection's pace says wait). */
  readonly refusal: Refusal | null;
}
/** Workspace default connections kept as hints (the map is emptied when full: a hint missing costs one round trip). */
const MAX_DEFAULTS_KEPT = 10_000;
/** How a sync execute's inline attempt went: the run ended; or it goes to the queue (after `delayMs`); or it is elsewhere. */
type Inline =
  | { readonly kind: "ended"; readonly envelope: Envelope }
  | { readonly kind: "queue"; readonly delayMs: number }
  /** Not ended by this attempt (canceled, taken over) or still running past the sync bound: its row tells. */
  | { readonly kind: "read" };

/**
 * One execute call, in five steps:
 *
 *   validate     the input against the action's current schema and the input rules, before anything is stored
 *   idempotency  an Idempotency-Key seen before answers its run (a replay)
 *   insert       one statement resolves the connection and writes the run (a sync run whose connection is likely
 *                known: claimed too, while its admission is asked); an async run's queue turn is reserved meanwhile
 *   run          async mode: the run's job is enqueued on that turn, after the row is committed; answer at once.
 *                sync mode: the first attempt runs here (below); the answer is its envelope, or, when the run went
 *                to the queue, its terminal event, bounded by NAGENT_SYNC_TIMEOUT_MS
 *
 * Inline attempt (sync mode). A caller waits on every sync execute, so when the workspace has a slot and the
 * connection a turn right now (the usual case), this request runs the run's first attempt itself, with the worker's
 * own steps (@nagent/attempts: admit, claim, call, finish): no queue hand-off to a worker and no wait for the run's
 * event, which take about as long as the rest of the call (README, "Sync executes run inline"). Refused admission,
 * Redis down, a retry planned or an attempt that failed: the run's job is enqueued, the worker takes it from there and
 * the request waits for the run's event as before. If this process dies during the attempt, the run stays `running`
 * and the stuck-run sweeper queues it again, as for a worker that died. An attempt still running at the sync bound
 * goes on in the background (the answer is 202 with its status) and is awaited by `settle()` at shutdown.
 *
 * A step that refuses the request throws an `AppError` (rendered by the error handler); nothing else throws.
 *
 * Durability: an async run's insert waits for the disk, as its answer promises the run. A sync run's insert does not
 * (its commit is flushed with the attempt's durable finish, here or in a worker, which comes first in WAL order); a sync answer given
 * without that finish — past the bound — flushes the insert first (`store.flushCommits`), so no answer names a run
 * that a PostgreSQL crash could lose.
 */
export function createExecuteAction(deps: ExecuteDeps) {
  const { registry, store, producer, logger, attempts } = deps;

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
  async function waitForEnd(workspaceId: string, run: Pick<RunRow, "id">, watch: RunWatch, options: { checkNow: boolean; replayed: boolean; timeoutMs?: number }): Promise<ExecuteResult> {
    const event = await watch.terminal(options.timeoutMs ?? deps.syncTimeoutMs, async () => (await store.get(workspaceId, run.id))?.status ?? null, { checkNow: options.checkNow });
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

  /** The workspace's default connection per integration, as the last insert that used it resolved it (a hint). */
  const defaults = new Map<string, string>();
  const defaultKey = (run: NewRun) => `${run.workspaceId}:${run.integration}`;

  /**
   * Writes the run. An async run's queue turn (the job's priority) is reserved in Redis while PostgreSQL writes the
   * row, so the two round trips overlap; it is given back when no run was written. A sync run reserves its turn only if
   * it goes to the queue (`enqueue`): one that ends inline, the usual case, never needs one.
   *
   * A sync run whose connection is likely known (named, or its workspace's default as last resolved) asks for its
   * slot and its connection's turn (Redis) while its insert claims it for its first attempt (`insertClaimed`,
   * PostgreSQL): the inline attempt then starts with no claim of its own, and the admission's round trip costs no
   * time. The insert's own resolution of the connection decides: a run that resolved to another connection (the
   * default changed) is inserted queued, and the admission given back. A run claimed whose admission was refused (the
   * workspace at its cap, the connection's pace) or did not answer (Redis) is put back in the queue (`unclaim`).
   */
  async function insert(run: NewRun, mode: Mode): Promise<Created | Extract<InsertOutcome, { kind: "existing" }>> {
    const { workspaceId } = run;
    // null: Redis did not answer (the enqueue is then skipped and logged).
    const turn = mode === "async" ? producer.reserve(workspaceId, "bulk").catch(() => null) : null;
    const likely = mode === "sync" && attempts ? run.connectionId ?? defaults.get(defaultKey(run)) : undefined;
    const likelyJob = (connectionId: string): RunJobData => ({ runId: run.id, workspaceId, connectionId, sync: true });
    const admitting = likely === undefined || !attempts ? null : attempts.admit(likelyJob(likely)).catch(() => null);
    let admission: Admission | null = null;
    let inserted: (Exclude<InsertOutcome, { kind: "no_connection" }> & { readonly claimed?: ClaimedRun | null }) | undefined;
    try {
      const first = likely === undefined ? null : await store.insertClaimed(run, likely);
      admission = await admitting;
      if (first?.kind === "created" && first.claimed && !admission?.admitted) {
        await store.unclaim(run.id);
        inserted = { ...first, claimed: null };
      } else {
        inserted = first === null || first.kind === "no_connection" ? await insertRun(run) : first;
      }
    } finally {
      if (mode === "async" && inserted?.kind !== "created" && (await turn) !== null) await producer.unreserve(workspaceId).catch(() => {});
      if (admitting !== null && (admission ??= await admitting)?.admitted && !(inserted?.kind === "created" && inserted.claimed)) await attempts?.giveBack(likelyJob(likely!));
    }
    if (inserted.kind === "existing") return inserted;
    const connectionId = inserted.run.connection_id;
    if (run.connectionId === null) {
      if (defaults.size >= MAX_DEFAULTS_KEPT) defaults.clear();
      defaults.set(defaultKey(run), connectionId);
    }
    const job: RunJobData = { runId: run.id, workspaceId, connectionId, ...(mode === "sync" ? { sync: true as const } : {}) };
    return {
      kind: "created", run: inserted.run, job, priority: turn === null ? undefined : await turn, claimed: inserted.claimed ?? null,
      refusal: admission !== null && !admission.admitted && likely === connectionId ? admission : null,
    };
  }

  /**
   * Adds the run's job on its reserved turn (a sync run reserves it now). The run is committed: when Redis fails now,
   * the sweeper enqueues it.
   */
  async function enqueue(created: Created, delayMs = 0): Promise<void> {
    const priority = created.priority !== undefined ? created.priority : await producer.reserve(created.job.workspaceId, "express").catch(() => null);
    const failure = priority === null
      ? "the queue turn could not be reserved"
      : await producer.enqueue(created.job, priority, delayMs).then(() => null, (error: Error) => error.message);
    if (failure !== null) logger.warn({ runId: created.job.runId, err: { message: failure } }, "enqueue failed after commit; the sweeper will pick the run up");
  }

  /** Inline attempts that outlived their request's sync bound (awaited by `settle`). */
  const background = new Set<Promise<unknown>>();

  /** The sync execute's first attempt, here (see "Inline attempt" above), bounded by `timeoutMs`. */
  async function attemptInline(attempts: NonNullable<ExecuteDeps["attempts"]>, created: Created, timeoutMs: number): Promise<Inline> {
    const { job, claimed } = created;
    if (!claimed) {
      const admission = created.refusal ?? await attempts.admit(job).catch(() => null);
      if (admission === null) return { kind: "queue", delayMs: 0 }; // Redis did not answer: the worker asks again
      // Refused: the run records why it waits, and its job comes back when the worker would have brought it back.
      if (!admission.admitted) return { kind: "queue", delayMs: await attempts.noteWaiting(job, admission) };
    }
    // Never counted pending (its turn is reserved only if it goes to the queue), so its end does not count it down.
    const attempt = attempts.run(job, { claimed: claimed ?? undefined, releaseLater: true, counted: false }).then(
      (outcome): Inline => outcome.envelope ? { kind: "ended", envelope: outcome.envelope } : outcome.retryInMs !== null ? { kind: "queue", delayMs: outcome.retryInMs } : { kind: "read" },
      (error: Error): Inline => {
        // As when a worker's processor throws (BullMQ retries its job): the worker takes the run over from here.
        logger.warn({ runId: job.runId, err: { message: error.message } }, "inline attempt failed; the run goes to the queue");
        return { kind: "queue", delayMs: 0 };
      });
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<"timeout">((resolve) => { timer = setTimeout(() => resolve("timeout"), timeoutMs); });
    const first = await Promise.race([attempt, bound]);
    clearTimeout(timer);
    if (first !== "timeout") return first;
    // Past the bound the request answers what the run's row says; the attempt goes on, and queues the run if it must.
    const late: Promise<void> = attempt.then((inline) => (inline.kind === "queue" ? enqueue(created, inline.delayMs) : undefined)).finally(() => background.delete(late));
    background.add(late);
    return { kind: "read" };
  }

  /** Sync mode: the first attempt inline; then the answer, from that attempt or from the run's end (see above). */
  async function runSync(created: Created): Promise<ExecuteResult> {
    const { run } = created;
    const started = Date.now();
    const inline: Inline = !attempts ? { kind: "queue", delayMs: 0 } : await attemptInline(attempts, created, deps.syncTimeoutMs);
    if (inline.kind === "ended") return finished(run.id, inline.envelope, false);
    // Only a run that did not end here is watched: nothing else could end it while this request held it (it has no job
    // until `enqueue` below, and a "read" re-reads the row once watching). A sync execute that ends inline, the usual
    // case, therefore never follows the run events channel: this process then receives no NOTIFY of other runs
    // (every state change of every run, thousands a second under an async flood), nor of its own.
    const watch = deps.events.watch(run.id);
    await deps.events.ready();
    if (inline.kind === "queue") await enqueue(created, inline.delayMs);
    const timeoutMs = Math.max(0, deps.syncTimeoutMs - (Date.now() - started));
    return waitForEnd(run.workspace_id, run, watch, { checkNow: inline.kind === "read", replayed: false, timeoutMs });
  }

  async function executeAction(workspaceId: string, slug: string, request: ExecuteRequest, idempotencyKey: string | undefined): Promise<ExecuteResult> {
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
    const queued = await insert({
      id, workspaceId, connectionId: request.connection_id ?? null, integration: action.integration, action: slug,
      schemaVersion: action.schema_version ?? 1, input: input.input, idempotencyKey: idempotencyKey ?? null, requestHash: hash,
      platformAssigned: input.assigned, sealedInput: input.sealed,
      source: request.source ?? "api", toolsetId: request.toolset_id ?? null,
      durable: mode === "async", // see Durability above
    }, mode);
    if (queued.kind === "existing") return replay(queued.run, hash, mode); // another request with the same key won the insert
    deps.onRunStarted?.({ integration: action.integration, action: slug });
    if (mode === "sync") return runSync(queued);
    await enqueue(queued);
    return answerOf(queued.run, false);
  }

  return Object.assign(executeAction, {
    /** Waits for the inline attempts still running in the background (call at shutdown, after the last request). */
    async settle(): Promise<void> {
      await Promise.allSettled([...background]);
    },
  });
}

export type ExecuteAction = ReturnType<typeof createExecuteAction>;
