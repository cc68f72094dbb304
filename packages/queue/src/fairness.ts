import type { Redis } from "ioredis";
import { createBatcher, createLanedBatcher, type Lane } from "@nagent/batch";
import { ADMIT, ADMIT_ANSWERS, COUNT_PENDING, defineScripts, RELEASE, runScript, UNCOUNT_PENDING } from "./fairness-scripts";
import { deploymentPacing, type PaceLimits, type PaceOutcome, type PacingOptions } from "./pacing";

/** Why an admission made a run wait: the workspace's cap, the connection's pace, or a pause the upstream asked for. */
export type WaitReason = "workspace_cap" | "rate_limit" | "connection_paused";

/** The answer to an admission: go, or wait (nothing held) for the workspace's cap or the connection's pace. */
export type Admission =
  | { readonly admitted: true }
  /** `reserved`: the run holds a turn of the connection's pace in waitMs (come back then, without jitter). */
  | { readonly admitted: false; readonly reason: WaitReason; readonly waitMs: number; readonly reserved?: boolean };

export interface FairnessOptions {
  readonly prefix: string;
  /** Runs of one workspace that may run at once. */
  readonly workspaceConcurrency: number;
  /** The pace a connection starts at (requests/s); it then adapts (see PacingOptions). */
  readonly connectionRatePerSec: number;
  readonly pacing?: Partial<PacingOptions>;
  /** How long a lease lives without being released (longer than one attempt can take). */
  readonly leaseMs: number;
}

/** The pacing of a release: the run's connection, how its attempt went, and the connection's own bounds. */
interface ReleasePacing {
  readonly connectionId: string;
  readonly pace: PaceOutcome;
  readonly limits: PaceLimits | null;
}

const { AT_CAP, TURN_RESERVED, PAUSED, IN_LINE } = ADMIT_ANSWERS;
const WAIT_REASONS: Readonly<Record<number, WaitReason>> = { [AT_CAP]: "workspace_cap", [TURN_RESERVED]: "rate_limit", [PAUSED]: "connection_paused", [IN_LINE]: "rate_limit" };
/** BullMQ's highest priority number. */
const MAX_PRIORITY = 2_097_151;

/**
 * Fairness between workspaces and politeness towards upstreams, kept in Redis so every worker shares them:
 *
 * - **Fair ordering.** A run a sync execute waits on enqueues without priority: BullMQ serves those first, FIFO, ahead
 *   of every async run (a caller waits on each; an async flood's backlog must not). Async runs are ordered fairly: each
 *   workspace's pending runs are counted; a workspace's first `fastLane` pending runs enqueue with priority 1, later
 *   ones with priority = their rank among that workspace's pending runs. A flooding workspace's 5,000th run therefore
 *   waits behind another workspace's 1st. A sync execute's run counts only once it goes to the queue: one that ends
 *   in the API's inline attempt never does (its release then says so: `ended` false).
 * - **Workspace concurrency cap.** A lease per running run (a sorted set of run ids scored by expiry); beyond the cap
 *   the run is delayed, not held in a worker. Leases expire on their own, so a dead worker cannot leak capacity.
 * - **Adaptive pacing per connection.** A pace per connection (GCRA turns, see ADMIT in fairness-scripts.ts) whose
 *   rate adapts as TCP's window does: it starts at `connectionRatePerSec`; while calls succeed and runs had to wait
 *   for the pace (demand exceeds it), and used (the admissions of the last second reach ¾ of it), it grows — doubling
 *   per second until the first 429 ("slow start", left by halving the pace), then by `increasePerSec` requests/s per
 *   second (additive increase); a 429 multiplies it by `decreaseFactor` (multiplicative decrease, at most once per
 *   `decreaseCooldownMs`, so a burst of 429s from one overshoot counts once). It stays within [min, max]: the
 *   deployment's, or the connection's own (`rate_limit` of PATCH /v1/connections/:id; equal bounds make a fixed cap).
 *   An upstream Retry-After also pauses the connection until then, so the connection's other runs stop hammering too.
 *
 * The pace is read and written by the admit and release scripts themselves: no round trip of its own.
 */
export function createFairness(redis: Redis, options: FairnessOptions) {
  defineScripts(redis);
  const k = (...parts: string[]) => [options.prefix, "fair", ...parts].join(":");
  /** The Redis keys of fairness (the KEYS of its scripts; see fairness-scripts.ts for what each holds). */
  const keys = {
    leases: (workspaceId: string) => k("active", workspaceId),
    pending: (workspaceId: string) => k("pending", workspaceId),
    pace: (connectionId: string) => k("rate", connectionId),
    pause: (connectionId: string) => k("pause", connectionId),
    turns: (connectionId: string) => k("resv", connectionId),
    line: (connectionId: string) => k("line", connectionId),
  };
  const startRps = options.connectionRatePerSec;
  const pacing = deploymentPacing(startRps, options.pacing);
  const fastLane = options.workspaceConcurrency;

  // Concurrent jobs of a worker share round trips: one script admits (or releases) every run that asked meanwhile.
  const batching = { maxBatch: 100, maxConcurrent: 1 };
  const admitBatcher = createLanedBatcher<{ workspaceId: string; runId: string; connectionId: string }, Admission>(async (runs) => {
    const now = Date.now();
    const answers = await runScript(redis, ADMIT, {
      cap: options.workspaceConcurrency, now, leaseExpiry: now + options.leaseMs, startRps, minRps: pacing.minRps, maxRps: pacing.maxRps,
      burstMs: pacing.burstSeconds * 1_000, horizonMs: pacing.horizonMs,
    }, runs.map(({ workspaceId, runId, connectionId }) => ({
      leasesKey: keys.leases(workspaceId), paceKey: keys.pace(connectionId), pauseKey: keys.pause(connectionId),
      turnsKey: keys.turns(connectionId), lineKey: keys.line(connectionId), runId,
    })));
    return (answers as [number, number][]).map(([answer, waitMs]): Admission =>
      answer === ADMIT_ANSWERS.ADMITTED ? { admitted: true } : { admitted: false, reason: WAIT_REASONS[answer] ?? "rate_limit", waitMs, reserved: answer === TURN_RESERVED });
  }, batching);
  const releaseBatcher = createLanedBatcher<{ workspaceId: string; runId: string; ended: boolean; pacing: ReleasePacing | undefined }, void>(async (runs) => {
    const bound = (rps: number | null | undefined) => (rps === null || rps === undefined ? "" : String(rps));
    await runScript(redis, RELEASE, {
      now: Date.now(), startRps, minRps: pacing.minRps, maxRps: pacing.maxRps, increasePerSec: pacing.increasePerSec,
      decreaseFactor: pacing.decreaseFactor, decreaseCooldownMs: pacing.decreaseCooldownMs,
    }, runs.map((run) => ({
      leasesKey: keys.leases(run.workspaceId), pendingKey: keys.pending(run.workspaceId), paceKey: run.pacing ? keys.pace(run.pacing.connectionId) : "",
      runId: run.runId, ended: run.ended ? "1" : "0", outcome: run.pacing?.pace ?? "", ownMinRps: bound(run.pacing?.limits?.minRps), ownMaxRps: bound(run.pacing?.limits?.maxRps),
    })));
    return runs.map(() => undefined);
  }, batching);
  const uncountBatcher = createBatcher<string, void>(async (workspaceIds) => {
    await runScript(redis, UNCOUNT_PENDING, {}, workspaceIds.map((id) => ({ pendingKey: keys.pending(id) })));
    return workspaceIds.map(() => undefined);
  }, batching);

  return {
    /**
     * Counts new pending runs of their workspaces and returns the BullMQ priority of each: 0 (served first) for a sync
     * execute's run (`express`), else 1 within the workspace's fast lane and the run's rank beyond it.
     */
    async prioritiesFor(workspaceIds: readonly string[], lane: Lane = "bulk"): Promise<number[]> {
      const ranks = (await runScript(redis, COUNT_PENDING, {}, workspaceIds.map((id) => ({ pendingKey: keys.pending(id) })))) as number[];
      if (lane === "express") return ranks.map(() => 0);
      return ranks.map((rank) => (rank <= fastLane ? 1 : Math.min(rank, MAX_PRIORITY)));
    },
    /** A pending run left without running (canceled, or its reservation given back); an ended run goes by `release`. */
    donePending(workspaceId: string): Promise<void> {
      return uncountBatcher(workspaceId);
    },
    /**
     * Admits one attempt of a run: a slot of the workspace's cap and a turn of the connection's pace, in one round
     * trip. `{ admitted: true }` holds the slot until `release`; otherwise nothing is held and the run waits.
     */
    admit(workspaceId: string, runId: string, connectionId: string, lane: Lane = "bulk"): Promise<Admission> {
      return admitBatcher({ workspaceId, runId, connectionId }, lane);
    },
    /**
     * Gives back the run's workspace slot and, when the run ended, its pending count; `pace` (how the attempt went)
     * adapts the connection's pace, within the connection's own `limits` when it has some. Batched with concurrent calls.
     */
    release(workspaceId: string, runId: string, ended: boolean, pacing?: ReleasePacing, lane: Lane = "bulk"): Promise<void> {
      return releaseBatcher({ workspaceId, runId, ended, pacing }, lane);
    },
    /** The upstream said "slow down" with a Retry-After: pause every run of this connection until then. */
    async pauseConnection(connectionId: string, forMs: number): Promise<void> {
      const until = Date.now() + forMs;
      await redis.set(keys.pause(connectionId), String(until), "PX", forMs + 1_000);
    },
    /** The connection's current pace in requests/s (null before its first call), for tests, benchmarks and operators. */
    async paceOf(connectionId: string): Promise<number | null> {
      const rate = await redis.hget(keys.pace(connectionId), "rate");
      return rate === null ? null : Number(rate);
    },
  };
}

export type Fairness = ReturnType<typeof createFairness>;
