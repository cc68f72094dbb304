import type { Redis } from "ioredis";
import { createBatcher } from "@nagent/batch";

/** Why an admission made a run wait: the workspace's cap, the connection's pace, or a pause the upstream asked for. */
export type WaitReason = "workspace_cap" | "rate_limit" | "connection_paused";

/** The answer to an admission: go, or wait (nothing held) for the workspace's cap or the connection's pace. */
export type Admission = { readonly admitted: true } | { readonly admitted: false; readonly reason: WaitReason; readonly waitMs: number };

/** How an attempt went, for the connection's pacing: succeeded, slowed down by the upstream (429), or neither. */
export type PaceOutcome = "ok" | "slow" | null;

/** A connection's own bounds of its pace (requests/s); null: the deployment's. Equal bounds fix the rate. */
export interface PaceLimits {
  readonly minRps: number | null;
  readonly maxRps: number | null;
}

/**
 * Fairness between workspaces and politeness towards upstreams, kept in Redis so every worker shares them:
 *
 * - **Fair ordering.** Each workspace's pending runs are counted; a workspace's first `fastLane` pending runs enqueue
 *   without priority (BullMQ serves those first, FIFO), later ones with priority = their rank among that workspace's
 *   pending runs. A flooding workspace's 5,000th run therefore waits behind another workspace's 1st.
 * - **Workspace concurrency cap.** A lease per running run (a sorted set of run ids scored by expiry); beyond the cap
 *   the run is delayed, not held in a worker. Leases expire on their own, so a dead worker cannot leak capacity.
 * - **Adaptive pacing per connection.** A token bucket per connection whose rate adapts as TCP's window does: it starts
 *   at `connectionRatePerSec`; while calls succeed and runs had to wait for the pace (demand exceeds it), it grows —
 *   doubling per second until the first 429 ("slow start"), then by `increasePerSec` requests/s per second (additive
 *   increase); a 429 multiplies it by `decreaseFactor` (multiplicative decrease, at most once per `decreaseCooldownMs`,
 *   so a burst of 429s from one overshoot counts once). It stays within [min, max]: the deployment's, or the
 *   connection's own (`rate_limit` of PATCH /v1/connections/:id; equal bounds make a fixed cap). An upstream
 *   Retry-After also pauses the bucket until then, so the connection's other runs stop hammering too.
 *
 * The pace is read and written by the admit and release scripts themselves: no round trip of its own.
 */

/**
 * Admission of attempts, for a batch of runs in one round trip. For run i: a workspace slot (KEYS[3i-2]) and then a
 * connection token (KEYS[3i-1] bucket, KEYS[3i] pause). Returns per run a pair (kind, wait ms): kind 0 admitted (slot
 * taken), 1 the workspace is at its cap, 2 wait for the connection's pace, 3 the connection is paused (Retry-After); a
 * waiting run holds nothing. ARGV: cap, now, lease expiry, start rate, min rate, max rate, burst seconds, then run ids.
 */
const ADMIT = `
local cap = tonumber(ARGV[1])
local now = tonumber(ARGV[2])
local expires = tonumber(ARGV[3])
local start = tonumber(ARGV[4])
local dmin = tonumber(ARGV[5])
local dmax = tonumber(ARGV[6])
local burst_sec = tonumber(ARGV[7])
local results = {}
for i = 1, #KEYS / 3 do
  local lease_key, bucket, pause_key, member = KEYS[3 * i - 2], KEYS[3 * i - 1], KEYS[3 * i], ARGV[7 + i]
  redis.call('ZREMRANGEBYSCORE', lease_key, '-inf', now)
  local held = redis.call('ZSCORE', lease_key, member)
  local kind, wait = 0, 0
  if not held and redis.call('ZCARD', lease_key) >= cap then
    kind = 1
  else
    local paused = tonumber(redis.call('GET', pause_key) or '0')
    if paused > now then
      kind, wait = 3, paused - now
    else
      local state = redis.call('HMGET', bucket, 'tokens', 'ts', 'rate', 'min', 'max')
      local lo = tonumber(state[4]) or dmin
      local hi = math.max(lo, tonumber(state[5]) or dmax)
      local rate = math.max(lo, math.min(hi, tonumber(state[3]) or start))
      local burst = math.max(1, rate * burst_sec)
      local tokens = tonumber(state[1]) or burst
      local ts = tonumber(state[2]) or now
      tokens = math.min(burst, tokens + math.max(0, now - ts) * rate / 1000)
      if tokens >= 1 then tokens = tokens - 1 else kind, wait = 2, math.ceil((1 - tokens) * 1000 / rate) end
      redis.call('HSET', bucket, 'tokens', tokens, 'ts', now)
      -- Demand exceeds the pace: successes may raise it (see RELEASE).
      if kind == 2 then redis.call('HSET', bucket, 'limited', now) end
      redis.call('PEXPIRE', bucket, 600000)
    end
  end
  if kind == 0 then
    redis.call('ZADD', lease_key, expires, member)
    redis.call('PEXPIRE', lease_key, expires - now + 60000)
  elseif not held then
    redis.call('ZREM', lease_key, member)
  end
  results[2 * i - 1] = kind
  results[2 * i] = wait
end
return results
`;

/** Counts a new pending run for each key (a workspace's count, repeated per run) and returns their ranks. */
const COUNT_PENDING = `
local ranks = {}
for i, key in ipairs(KEYS) do
  ranks[i] = redis.call('INCR', key)
  redis.call('PEXPIRE', key, 3600000)
end
return ranks
`;

/**
 * Gives back runs' slots and adapts their connections' pace, for a batch: run i's lease set is KEYS[3i-2], its
 * workspace's pending count KEYS[3i-1], its connection's bucket KEYS[3i] ('' for none). ARGV: now, start rate, min
 * rate, max rate, increase per second, decrease factor, decrease cooldown ms; then per run: run id, '1' when the run
 * ended (its pending count then goes down), the attempt's pace outcome ('ok', 'slow' or ''), the connection's own min
 * and max ('' for the deployment's; stored in the bucket, so later admissions apply them).
 */
const RELEASE = `
local now = tonumber(ARGV[1])
local start = tonumber(ARGV[2])
local dmin = tonumber(ARGV[3])
local dmax = tonumber(ARGV[4])
local inc = tonumber(ARGV[5])
local dec = tonumber(ARGV[6])
local cool = tonumber(ARGV[7])
for i = 1, #KEYS / 3 do
  local lease, pending, bucket = KEYS[3 * i - 2], KEYS[3 * i - 1], KEYS[3 * i]
  local a = 7 + 5 * (i - 1)
  local member, ended, outcome, own_min, own_max = ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], ARGV[a + 4], ARGV[a + 5]
  if member ~= '' then redis.call('ZREM', lease, member) end
  if ended == '1' and redis.call('DECR', pending) < 0 then redis.call('SET', pending, '0', 'PX', 3600000) end
  if outcome ~= '' and bucket ~= '' then
    if own_min == '' then redis.call('HDEL', bucket, 'min') else redis.call('HSET', bucket, 'min', own_min) end
    if own_max == '' then redis.call('HDEL', bucket, 'max') else redis.call('HSET', bucket, 'max', own_max) end
    local lo = tonumber(own_min) or dmin
    local hi = math.max(lo, tonumber(own_max) or dmax)
    local state = redis.call('HMGET', bucket, 'rate', 'limited', 'cut', 'phase')
    local rate = math.max(lo, math.min(hi, tonumber(state[1]) or start))
    if outcome == 'ok' then
      if now - (tonumber(state[2]) or 0) < 1000 then
        if state[4] == 'avoid' then rate = rate + inc / rate else rate = rate + 1 end
      end
    elseif outcome == 'slow' then
      if now - (tonumber(state[3]) or 0) >= cool then
        rate = rate * dec
        redis.call('HSET', bucket, 'cut', now, 'phase', 'avoid')
      end
    end
    rate = math.max(lo, math.min(hi, rate))
    redis.call('HSET', bucket, 'rate', rate)
    redis.call('PEXPIRE', bucket, 600000)
  end
end
return 0
`;

type FairRedis = Redis & {
  nagentCountPending(count: number, ...keys: string[]): Promise<number[]>;
  nagentRelease(count: number, ...keysThenArgs: (string | number)[]): Promise<number>;
  nagentAdmit(count: number, ...keysThenArgs: (string | number)[]): Promise<number[]>;
};

export interface PacingOptions {
  /** The pace's bounds when the connection sets none (requests/s). */
  readonly minRps: number;
  readonly maxRps: number;
  /** Additive increase: requests/s gained per second of successful calls at full pace (after the first 429). */
  readonly increasePerSec: number;
  /** Multiplicative decrease on a 429 (0–1). */
  readonly decreaseFactor: number;
  /** At most one decrease per this many ms (the 429s of one overshoot arrive together). */
  readonly decreaseCooldownMs: number;
  /** The bucket holds at most this many seconds of the pace (a burst above it). */
  readonly burstSeconds: number;
}

export const DEFAULT_PACING: PacingOptions = { minRps: 0.5, maxRps: 1_000, increasePerSec: 2, decreaseFactor: 0.75, decreaseCooldownMs: 1_000, burstSeconds: 0.1 };

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

export function createFairness(redis: Redis, options: FairnessOptions) {
  const r = redis as FairRedis;
  // Each operation is one Lua script (one EVALSHA round trip, atomic); ioredis's MULTI costs far more CPU per call.
  if (!("nagentAdmit" in r)) {
    redis.defineCommand("nagentAdmit", { lua: ADMIT });
    redis.defineCommand("nagentCountPending", { lua: COUNT_PENDING });
    redis.defineCommand("nagentRelease", { lua: RELEASE });
  }
  const k = (...parts: string[]) => [options.prefix, "fair", ...parts].join(":");
  const pacing: PacingOptions = { ...DEFAULT_PACING, ...options.pacing };
  const start = options.connectionRatePerSec;
  const fastLane = options.workspaceConcurrency;
  const KINDS: Record<number, WaitReason> = { 1: "workspace_cap", 2: "rate_limit", 3: "connection_paused" };

  // Concurrent jobs of a worker share round trips: one script admits (or releases) every run that asked meanwhile.
  const batching = { maxBatch: 100, maxConcurrent: 1 };
  const admitOne = createBatcher<{ workspaceId: string; runId: string; connectionId: string }, Admission>(async (items) => {
    const now = Date.now();
    const keys = items.flatMap((i) => [k("active", i.workspaceId), k("rate", i.connectionId), k("pause", i.connectionId)]);
    const results = await r.nagentAdmit(keys.length, ...keys, options.workspaceConcurrency, now, now + options.leaseMs, start, pacing.minRps, pacing.maxRps, pacing.burstSeconds, ...items.map((i) => i.runId));
    return items.map((_, i): Admission => {
      const kind = results[2 * i] ?? 0;
      if (kind === 0) return { admitted: true };
      return { admitted: false, reason: KINDS[kind] ?? "rate_limit", waitMs: results[2 * i + 1] ?? 0 };
    });
  }, batching);
  type ReleaseItem = { workspaceId: string; runId: string; ended: boolean; connectionId: string | null; pace: PaceOutcome; limits: PaceLimits | null };
  const releaseOne = createBatcher<ReleaseItem, void>(async (items) => {
    const keys = items.flatMap((i) => [k("active", i.workspaceId), k("pending", i.workspaceId), i.connectionId ? k("rate", i.connectionId) : ""]);
    const num = (n: number | null | undefined) => (n === null || n === undefined ? "" : String(n));
    await r.nagentRelease(keys.length, ...keys, Date.now(), start, pacing.minRps, pacing.maxRps, pacing.increasePerSec, pacing.decreaseFactor, pacing.decreaseCooldownMs,
      ...items.flatMap((i) => [i.runId, i.ended ? "1" : "0", i.pace ?? "", num(i.limits?.minRps), num(i.limits?.maxRps)]));
    return items.map(() => undefined);
  }, batching);

  return {
    /** Counts new pending runs of their workspaces and returns the BullMQ priority of each (0 = fast lane). */
    async prioritiesFor(workspaceIds: readonly string[]): Promise<number[]> {
      const ranks = await r.nagentCountPending(workspaceIds.length, ...workspaceIds.map((id) => k("pending", id)));
      return ranks.map((rank) => (rank <= fastLane ? 0 : Math.min(rank, 2_097_151)));
    },
    /** The run is no longer pending (ended, or canceled). */
    async donePending(workspaceId: string): Promise<void> {
      // The release script without a slot to give back: one place keeps the count from going below zero.
      await releaseOne({ workspaceId, runId: "", ended: true, connectionId: null, pace: null, limits: null });
    },
    /**
     * Admits one attempt of a run: a slot of the workspace's cap and a token of the connection's pace, in one round
     * trip. `{ admitted: true }` holds the slot until `release`; otherwise nothing is held and the run waits.
     */
    admit(workspaceId: string, runId: string, connectionId: string): Promise<Admission> {
      return admitOne({ workspaceId, runId, connectionId });
    },
    /**
     * Gives back the run's workspace slot and, when the run ended, its pending count; `pace` (how the attempt went)
     * adapts the connection's pace, within the connection's own `limits` when it has some. Batched with concurrent calls.
     */
    release(workspaceId: string, runId: string, ended: boolean, pacing?: { connectionId: string; pace: PaceOutcome; limits: PaceLimits | null }): Promise<void> {
      return releaseOne({ workspaceId, runId, ended, connectionId: pacing?.connectionId ?? null, pace: pacing?.pace ?? null, limits: pacing?.limits ?? null });
    },
    /** The upstream said "slow down" with a Retry-After: pause every run of this connection until then. */
    async pauseConnection(connectionId: string, forMs: number): Promise<void> {
      const until = Date.now() + forMs;
      await redis.set(k("pause", connectionId), String(until), "PX", forMs + 1_000);
    },
    /** The connection's current pace in requests/s (null before its first call), for tests, benchmarks and operators. */
    async paceOf(connectionId: string): Promise<number | null> {
      const rate = await redis.hget(k("rate", connectionId), "rate");
      return rate === null ? null : Number(rate);
    },
  };
}

export type Fairness = ReturnType<typeof createFairness>;
