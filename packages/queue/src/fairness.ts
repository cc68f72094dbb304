import type { Redis } from "ioredis";
import { createBatcher } from "@nagent/batch";

/** Why an admission made a run wait: the workspace's cap, the connection's pace, or a pause the upstream asked for. */
export type WaitReason = "workspace_cap" | "rate_limit" | "connection_paused";

/** The answer to an admission: go, or wait (nothing held) for the workspace's cap or the connection's pace. */
export type Admission =
  | { readonly admitted: true }
  /** `reserved`: the run holds a turn of the connection's pace in waitMs (come back then, without jitter). */
  | { readonly admitted: false; readonly reason: WaitReason; readonly waitMs: number; readonly reserved?: boolean };

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
 * - **Adaptive pacing per connection.** A pace per connection (GCRA turns, see ADMIT) whose rate adapts as TCP's window does: it starts
 *   at `connectionRatePerSec`; while calls succeed and runs had to wait for the pace (demand exceeds it), and used (the admissions of the last second reach ¾ of it), it grows —
 *   doubling per second until the first 429 ("slow start", left by halving the pace), then by `increasePerSec` requests/s per second (additive
 *   increase); a 429 multiplies it by `decreaseFactor` (multiplicative decrease, at most once per `decreaseCooldownMs`,
 *   so a burst of 429s from one overshoot counts once). It stays within [min, max]: the deployment's, or the
 *   connection's own (`rate_limit` of PATCH /v1/connections/:id; equal bounds make a fixed cap). An upstream
 *   Retry-After also pauses the connection until then, so the connection's other runs stop hammering too.
 *
 * The pace is read and written by the admit and release scripts themselves: no round trip of its own.
 */

/**
 * Admission of attempts, for a batch of runs in one round trip. For run i: a workspace slot (KEYS[5i-4]), then a turn
 * of the connection's pace (KEYS[5i-3] its state, KEYS[5i-2] its pause, KEYS[5i-1] its reservations, KEYS[5i] its line). The pace is a
 * GCRA (virtual scheduling): turns are spaced 1/rate apart from `tat`, the next free turn; a run whose turn is within
 * the burst tolerance goes now; one whose turn is within `horizon` ms reserves it and comes back exactly then (and is
 * admitted on its reservation, taking nothing more); one beyond the horizon reserves nothing, takes a place in the
 * connection's line (KEYS[5i]) and comes back about when its place is due at the current pace (5 horizons at most), so
 * a lowered pace applies within a horizon, not after every waiting run's turn, and a backlog costs few admissions per run. Returns per run a pair (kind, wait ms):
 * 0 admitted (slot taken), 1 the workspace is at its cap, 2 a reserved turn, 3 the connection is paused (Retry-After),
 * 4 no turn reserved yet. A waiting run holds no slot.
 * ARGV: cap, now, lease expiry, start rate, min rate, max rate, burst seconds, horizon ms, then the run ids.
 */
const ADMIT = `
local cap = tonumber(ARGV[1])
local now = tonumber(ARGV[2])
local expires = tonumber(ARGV[3])
local start = tonumber(ARGV[4])
local dmin = tonumber(ARGV[5])
local dmax = tonumber(ARGV[6])
local burst_sec = tonumber(ARGV[7])
local horizon = tonumber(ARGV[8])
local results = {}
for i = 1, #KEYS / 5 do
  local lease_key, bucket, pause_key, resv, line, member = KEYS[5 * i - 4], KEYS[5 * i - 3], KEYS[5 * i - 2], KEYS[5 * i - 1], KEYS[5 * i], ARGV[8 + i]
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
      local reserved = tonumber(redis.call('HGET', resv, member) or false)
      if reserved then redis.call('HDEL', resv, member) end
      if reserved and reserved - now > 5 then
        kind, wait = 2, reserved - now
        redis.call('HSET', resv, member, reserved)
      elseif reserved and now - reserved <= burst_sec * 1000 then
        -- Its turn: go (the turn was taken when it was reserved).
      else
        -- No turn, or back too late for it (a stalled worker): runs late together must not go together (a burst
        -- the upstream would answer with 429s), so take a new turn.
        local state = redis.call('HMGET', bucket, 'tat', 'rate', 'min', 'max')
        local lo = tonumber(state[3]) or dmin
        local hi = math.max(lo, tonumber(state[4]) or dmax)
        local rate = math.max(lo, math.min(hi, tonumber(state[2]) or start))
        local interval = 1000 / rate
        local turn = math.max(tonumber(state[1]) or now, now)
        if turn - now <= burst_sec * 1000 then
          redis.call('HSET', bucket, 'tat', turn + interval)
          redis.call('ZREM', line, member)
        elseif turn - now <= horizon then
          kind, wait = 2, math.ceil(turn - now)
          redis.call('HSET', bucket, 'tat', turn + interval)
          redis.call('HSET', resv, member, turn)
          redis.call('PEXPIRE', resv, 600000)
          redis.call('ZREM', line, member)
        else
          -- Beyond the horizon: a place in the line of runs waiting for a turn (FIFO by first arrival; entries of
          -- runs gone meanwhile age out), and come back about when that place is within the horizon at the current
          -- pace, or after 5 horizons at most (so a pace that grew meanwhile is seen): a long backlog wakes each run
          -- every few seconds, not every few ms.
          redis.call('ZREMRANGEBYSCORE', line, '-inf', now - 600000)
          redis.call('ZADD', line, 'NX', now, member)
          redis.call('PEXPIRE', line, 600000)
          local place = redis.call('ZRANK', line, member) or 0
          kind, wait = 4, math.max(50, math.min(5 * horizon, math.ceil(turn - now + place * interval - horizon / 2)))
        end
        -- Demand exceeds the pace: successes may raise it (see RELEASE).
        if kind ~= 0 then redis.call('HSET', bucket, 'limited', now) end
        redis.call('PEXPIRE', bucket, 600000)
      end
    end
  end
  if kind == 0 then
    -- The pace actually used: admissions per second (RELEASE grows the pace only while it is used).
    local used = redis.call('HMGET', bucket, 'adm', 'admts')
    local adm, admts = tonumber(used[1]) or 0, tonumber(used[2]) or now
    if now - admts >= 1000 then
      redis.call('HSET', bucket, 'used', adm * 1000 / (now - admts), 'adm', 1, 'admts', now)
    else
      redis.call('HSET', bucket, 'adm', adm + 1, 'admts', admts)
    end
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
    local state = redis.call('HMGET', bucket, 'rate', 'limited', 'cut', 'phase', 'used')
    local rate = math.max(lo, math.min(hi, tonumber(state[1]) or start))
    if outcome == 'ok' then
      -- Grow only while runs wait for the pace and the pace is used (not while the workers lag behind it).
      if now - (tonumber(state[2]) or 0) < 1000 and (tonumber(state[5]) or rate) >= 0.75 * rate then
        if state[4] == 'avoid' then rate = rate + inc / rate else rate = rate + 1 end
      end
    elseif outcome == 'slow' then
      if now - (tonumber(state[3]) or 0) >= cool then
        -- Leaving slow start, the pace may be up to twice what the upstream takes: halve it (as TCP Reno does).
        if state[4] == 'avoid' then rate = rate * dec else rate = rate * 0.5 end
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
  /** A run whose turn is at most this many seconds away goes at once (the burst tolerance). */
  readonly burstSeconds: number;
  /** Turns are reserved at most this far ahead (ms); later runs come back without one. */
  readonly horizonMs: number;
}

export const DEFAULT_PACING: PacingOptions = { minRps: 0.5, maxRps: 1_000, increasePerSec: 2, decreaseFactor: 0.75, decreaseCooldownMs: 1_000, burstSeconds: 0.1, horizonMs: 1_000 };

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
  const start = options.connectionRatePerSec;
  // The deployment's ceiling is never below its starting pace: a deployment that starts its connections at 5,000
  // requests/s (NAGENT_CONNECTION_RATE_PER_SEC) means it, and is not clamped to the default ceiling of 1,000.
  const pacing: PacingOptions = { ...DEFAULT_PACING, maxRps: Math.max(DEFAULT_PACING.maxRps, start), ...options.pacing };
  const fastLane = options.workspaceConcurrency;
  const KINDS: Record<number, WaitReason> = { 1: "workspace_cap", 2: "rate_limit", 3: "connection_paused", 4: "rate_limit" };

  // Concurrent jobs of a worker share round trips: one script admits (or releases) every run that asked meanwhile.
  const batching = { maxBatch: 100, maxConcurrent: 1 };
  const admitOne = createBatcher<{ workspaceId: string; runId: string; connectionId: string }, Admission>(async (items) => {
    const now = Date.now();
    const keys = items.flatMap((i) => [k("active", i.workspaceId), k("rate", i.connectionId), k("pause", i.connectionId), k("resv", i.connectionId), k("line", i.connectionId)]);
    const results = await r.nagentAdmit(keys.length, ...keys, options.workspaceConcurrency, now, now + options.leaseMs, start, pacing.minRps, pacing.maxRps, pacing.burstSeconds, pacing.horizonMs,
      ...items.map((i) => i.runId));
    return items.map((_, i): Admission => {
      const kind = results[2 * i] ?? 0;
      if (kind === 0) return { admitted: true };
      return { admitted: false, reason: KINDS[kind] ?? "rate_limit", waitMs: results[2 * i + 1] ?? 0, reserved: kind === 2 };
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
