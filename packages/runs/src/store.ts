import type pg from "pg";
import type { AttemptOutcome, ClaimedRun, Envelope, InsertedRun, InsertOutcome, NewRun, OutputCheck, RunRow } from "./types";
import { createBatcher, createLanedBatcher, type Lane } from "@nagent/batch";
import { claimRuns, finishRuns, insertClaimedRuns, insertRuns, type ClaimItem, type ClaimRow, type FinishItem, type InsertClaimedItem, type InsertClaimedRow, type InsertItem } from "./hot-path";
import { compactJson, STORED_INPUT_MAX_BYTES, STORED_OUTPUT_MAX_BYTES } from "./compact";
import { namedQuery } from "./named-query";
import { createRunReads } from "./store-reads";
import { createRunTransitions } from "./store-transitions";
import { createRunSweep } from "./store-sweep";

/**
 * The run table's state machine, as SQL on the pg pool (named prepared statements). The hot path — insert (which
 * also resolves the connection), claim (which joins the connection) and finish (attempt, run and NOTIFY in one
 * statement) — goes through batchers, so concurrent calls share round trips and commits (hot-path.ts); the reads, the
 * other state changes and the sweeper's statements are in store-reads.ts, store-transitions.ts and store-sweep.ts.
 * Every state change sends a `RunEvent` on RUN_EVENTS_CHANNEL, delivered on commit (but a sync run's claiming insert:
 * nobody can follow it yet; see INSERT_CLAIMED_RUNS). Queries from the API carry the
 * workspace id; the worker addresses runs by the id of its own job.
 */
export function createRunStore(pool: pg.Pool) {
  const query = namedQuery(pool);

  // One batch of each kind and lane in flight at a time (maxConcurrent: 1); calls that arrive meanwhile join the next
  // one (see batcher.ts). So the hot path holds at most two pool connections per kind (the express lane, for runs a
  // sync execute waits on, and the bulk lane), and the rest of the pool stays free.
  const batching = { maxBatch: 100, maxConcurrent: 1 };
  const insertBatcher = createLanedBatcher<InsertItem, InsertedRun | null>(async (items) => matchById(items.map((i) => i.id), await insertRuns(pool, items)), batching);
  // Only sync executes insert claimed runs: one lane.
  const insertClaimedBatcher = createBatcher<InsertClaimedItem, InsertClaimedRow | null>(async (items) => matchById(items.map((i) => i.id), await insertClaimedRuns(pool, items)), batching);
  // A run asked for twice in one batch (two of its jobs) is claimed for the first caller only (see matchById).
  const claimBatcher = createLanedBatcher<ClaimItem, ClaimRow | null>(async (items) => matchById(items.map((i) => i.id), await claimRuns(pool, firstPerId(items))), batching);
  // Sorted by id, as the claim locks its rows: the usual plan (a nested loop over the items) then updates them in id
  // order, and two finishes that share runs wait for each other rather than deadlock.
  const finishBatcher = createLanedBatcher<FinishItem, { duration_ms: number } | null>(async (items) =>
    matchById(items.map((i) => i.id), await finishRuns(pool, [...items].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)))), batching);

  /** Why an insert wrote nothing: another run holds the Idempotency-Key (`existing`), or no usable connection matched. */
  async function notInserted(run: NewRun): Promise<InsertOutcome> {
    if (run.idempotencyKey !== null) {
      const { rows } = await query<RunRow>("run-by-idempotency-key-any", `SELECT * FROM run WHERE workspace_id = $1 AND idempotency_key = $2`, [run.workspaceId, run.idempotencyKey]);
      if (rows[0]) return { kind: "existing", run: rows[0] };
    }
    return { kind: "no_connection" };
  }

  return {
    /**
     * Inserts a queued run bound to its connection, resolved in the same statement: the named one, or the workspace's
     * default for the integration, and only if it is active. When nothing was inserted, the run that holds the
     * Idempotency-Key (bound meanwhile by a concurrent request) is `existing`; without one, `no_connection`. A key
     * holder that vanished between the insert and that read (released or deleted) also reads as `no_connection`: the
     * caller's retry after resolving the connection then inserts the run.
     */
    async insert(run: NewRun): Promise<InsertOutcome> {
      // Only a sync execute inserts a run not durable (execute-action.ts, "Durability"): it takes the express lane.
      const inserted = await insertBatcher({ ...run, input: JSON.stringify(run.input), platformAssigned: run.platformAssigned ?? [], sealedInput: run.sealedInput ?? null }, run.durable === false ? "express" : "bulk");
      return inserted ? { kind: "created", run: inserted } : notInserted(run);
    },

    /**
     * A sync execute's run, inserted (as `insert`) and claimed for its first attempt in one statement when its
     * connection resolves to `admittedConnectionId`, the one its workspace slot and pace turn were admitted for: the
     * claimed run is then `claimed` (as `claim` returns it; attempt 1, express lane). When the connection resolved to
     * another one, the run is created queued and `claimed` is null. Never durable (see NewRun.durable).
     */
    async insertClaimed(run: NewRun, admittedConnectionId: string): Promise<InsertOutcome & { readonly claimed?: ClaimedRun | null }> {
      const row = await insertClaimedBatcher({
        ...run, input: JSON.stringify(run.input), platformAssigned: run.platformAssigned ?? [], sealedInput: run.sealedInput ?? null, durable: false, admittedConnectionId,
      });
      if (!row) return notInserted(run);
      const inserted = { id: row.id, workspace_id: row.workspace_id, status: row.status, output: row.output, connection_id: row.connection_id };
      const claimed: ClaimedRun | null = row.status !== "running" ? null : {
        id: row.id, workspace_id: row.workspace_id, connection_id: row.connection_id, integration: run.integration, action: run.action,
        input: run.input as ClaimedRun["input"], // the object the row was written from (execute's input is an object)
        sealed_input: run.sealedInput ?? null, attempt: 1, previousLost: false,
        outputCheckMode: row.output_check_mode === "strict" ? "strict" : "record",
        connection: row.ciphertext ? { ciphertext: row.ciphertext, base_url: row.base_url, status: row.connection_status ?? "active", rate_min_rps: row.rate_min_rps, rate_max_rps: row.rate_max_rps } : null,
        lane: "express",
      };
      return { kind: "created", run: inserted, claimed };
    },

    /**
     * Returns once every commit made so far is on disk, including those that did not wait for it (a sync execute's
     * insert): a transaction given an id commits durably, and WAL is flushed in order. Call it before answering with a
     * run that a non-durable insert created.
     */
    async flushCommits(): Promise<void> {
      await query("flush-commits", "SELECT txid_current()", []);
    },

    /**
     * Takes a run for an attempt: queued (or running, when the worker of the previous attempt died) → running, the
     * attempt counted and recorded as started, an unfinished earlier attempt marked lost. Returns null when the run
     * is gone, canceled or already ended, or held by another job (its job then has nothing to do). `lane`: "express"
     * for a run a sync execute waits on; the claimed run keeps it for its finish. `holder`: the id of the queue job
     * whose attempt this is (the run's own id for a one-run job); only it may take over a `running` run (CLAIM_RUNS).
     */
    async claim(id: string, lane: Lane = "bulk", holder: string = id): Promise<ClaimedRun | null> {
      const row = await claimBatcher({ id, holder }, lane);
      if (!row) return null;
      return {
        id: row.id,
        workspace_id: row.workspace_id,
        connection_id: row.connection_id,
        integration: row.integration,
        action: row.action,
        input: row.input,
        sealed_input: row.sealed_input,
        attempt: row.attempts_count,
        previousLost: row.previous_lost,
        outputCheckMode: row.output_check_mode === "strict" ? "strict" : "record",
        connection: row.ciphertext ? { ciphertext: row.ciphertext, base_url: row.base_url, status: row.connection_status ?? "active", rate_min_rps: row.rate_min_rps, rate_max_rps: row.rate_max_rps } : null,
        lane,
      };
    },

    /**
     * Ends a run (succeeded or failed) with its envelope, closing its current attempt, in one statement. Guarded by the
     * attempt number, so a worker whose attempt was taken over cannot end the run. Large inputs are compacted now that
     * nothing needs them whole. Returns null when the guard did not match, else the run's duration (first attempt's
     * start to now) and its envelope as stored (compacted when it was too large to keep whole).
     */
    async finish(run: { id: string; attempt: number; input: unknown; lane?: Lane }, outcome: AttemptOutcome & { status: "succeeded" | "failed" | "unknown"; envelope: Envelope; outputCheck?: OutputCheck | null }): Promise<{ durationMs: number; envelope: Envelope } | null> {
      const output = compactJson(outcome.envelope, STORED_OUTPUT_MAX_BYTES);
      const input = compactJson(run.input, STORED_INPUT_MAX_BYTES);
      const ended = await finishBatcher({
        id: run.id, attempt: run.attempt, outcome: outcome.outcome, upstreamStatus: outcome.upstreamStatus, latencyMs: outcome.latencyMs,
        errorCode: outcome.errorCode, errorMessage: outcome.errorMessage, status: outcome.status,
        output: output.json, outputTruncated: output.truncated, compactedInput: input.truncated ? input.json : null,
        outputCheck: outcome.outputCheck ? JSON.stringify(outcome.outputCheck) : null,
      }, run.lane ?? "bulk");
      return ended ? { durationMs: ended.duration_ms, envelope: output.value as Envelope } : null;
    },

    ...createRunReads(query),
    ...createRunTransitions(query),
    ...createRunSweep(query),
  };
}

export type RunStore = ReturnType<typeof createRunStore>;

/**
 * One result per id, in order: the row with that id, or null when the statement left the run out (see hot-path.ts).
 * A row answers one caller only, the first that asked for its id: should two jobs of one run meet in one batch, the
 * second must not be told it claimed (or ended) the run too, or both would call the upstream for one attempt.
 */
/** The items, each id once (its first caller's). */
function firstPerId<T extends { readonly id: string }>(items: readonly T[]): T[] {
  const seen = new Set<string>();
  return items.filter((i) => !seen.has(i.id) && seen.add(i.id));
}

function matchById<R extends { readonly id: string }>(ids: readonly string[], rows: readonly R[]): (R | null)[] {
  const byId = new Map(rows.map((r) => [r.id, r]));
  return ids.map((id) => {
    const row = byId.get(id) ?? null;
    byId.delete(id);
    return row;
  });
}
