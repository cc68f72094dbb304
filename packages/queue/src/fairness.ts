import type { Redis } from "ioredis";
import { createBatcher } from "@nagent/batch";

/** The answer to an admission: go, or wait (nothing held) for the workspace's cap or the connection's rate limit. */
export type Admission = { readonly admitted: true } | { readonly admitted: false; readonly reason: "workspace_cap" | "rate_limit"; readonly waitMs: number };

/**
 * Fairness between workspaces and politeness towards upstreams, kept in Redis so every worker shares them:
 *
 * - **Fair ordering.** Each workspace's pending runs are counted; a workspace's first `fastLane` pending runs enqueue
 *   without priority (BullMQ serves those first, FIFO), later ones with priority = their rank among that workspace's
 *   pending runs. A flooding workspace's 5,000th run therefore waits behind another workspace's 1st.
 * - **Workspace concurrency cap.** A lease per running run (a sorted set of run ids scored by expiry); beyond the cap
 *   the run is delayed, not held in a worker. Leases expire on their own, so a dead worker cannot leak capacity.
 * - **Connection rate limit.** A token bucket per connection; an upstream 429 also pauses the bucket until its
 *   Retry-After, so the other runs of that connection stop hammering too.
 */

/**
 * Admission of attempts, for a batch of runs in one round trip. For run i: a workspace slot (KEYS[3i-2]) and then a
 * connection token (KEYS[3i-1] bucket, KEYS[3i] pause). Returns per run 0 when admitted (slot taken), -1 when the
 * workspace is at its cap, or the milliseconds to wait for the connection's rate limit (the slot is then given back:
 * a waiting run holds nothing). ARGV: cap, now, lease expiry, rate, burst, then the run ids.
 */
const ADMIT = `
local cap = tonumber(ARGV[1])
local now = tonumber(ARGV[2])
local expires = tonumber(ARGV[3])
local rate = tonumber(ARGV[4])
local burst = tonumber(ARGV[5])
local results = {}
for i = 1, #KEYS / 3 do
  local lease_key, bucket, pause_key, member = KEYS[3 * i - 2], KEYS[3 * i - 1], KEYS[3 * i], ARGV[5 + i]
  redis.call('ZREMRANGEBYSCORE', lease_key, '-inf', now)
  local held = redis.call('ZSCORE', lease_key, member)
  if not held and redis.call('ZCARD', lease_key) >= cap then
    results[i] = -1
  else
    local wait = 0
    local paused = tonumber(redis.call('GET', pause_key) or '0')
    if paused > now then
      wait = paused - now
    else
      local state = redis.call('HMGET', bucket, 'tokens', 'ts')
      local tokens = tonumber(state[1]) or burst
      local ts = tonumber(state[2]) or now
      tokens = math.min(burst, tokens + (now - ts) * rate / 1000)
      if tokens >= 1 then tokens = tokens - 1 else wait = math.ceil((1 - tokens) * 1000 / rate) end
      redis.call('HSET', bucket, 'tokens', tokens, 'ts', now)
      redis.call('PEXPIRE', bucket, math.ceil(burst * 1000 / rate) + 60000)
    end
    if wait > 0 then
      if not held then redis.call('ZREM', lease_key, member) end
      results[i] = wait
    else
      redis.call('ZADD', lease_key, expires, member)
      redis.call('PEXPIRE', lease_key, expires - now + 60000)
      results[i] = 0
    end
  end
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
 * Gives back runs' slots, for a batch: run i's lease set is KEYS[2i-1], its workspace's pending count KEYS[2i];
 * ARGV[2i-1] is the run id and ARGV[2i] '1' when the run ended (its pending count then goes down).
 */
const RELEASE = `
for i = 1, #KEYS / 2 do
  redis.call('ZREM', KEYS[2 * i - 1], ARGV[2 * i - 1])
  if ARGV[2 * i] == '1' and redis.call('DECR', KEYS[2 * i]) < 0 then redis.call('SET', KEYS[2 * i], '0', 'PX', 3600000) end
end
return 0
`;

type FairRedis = Redis & {
  nagentCountPending(count: number, ...keys: string[]): Promise<number[]>;
  nagentRelease(count: number, ...keysThenArgs: string[]): Promise<number>;
  nagentAdmit(count: number, ...keysThenArgs: (string | number)[]): Promise<number[]>;
};

export interface FairnessOptions {
  readonly prefix: string;
  /** Runs of one workspace that may run at once. */
  readonly workspaceConcurrency: number;
  /** Upstream requests per second per connection, and the burst allowed above it. */
  readonly connectionRatePerSec: number;
  readonly connectionBurst?: number;
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
  const burst = options.connectionBurst ?? Math.max(1, Math.ceil(options.connectionRatePerSec * 2));
  const fastLane = options.workspaceConcurrency;

  // Concurrent jobs of a worker share round trips: one script admits (or releases) every run that asked meanwhile.
  const batching = { maxBatch: 100, maxConcurrent: 1 };
  const admitOne = createBatcher<{ workspaceId: string; runId: string; connectionId: string }, Admission>(async (items) => {
    const now = Date.now();
    const keys = items.flatMap((i) => [k("active", i.workspaceId), k("rate", i.connectionId), k("pause", i.connectionId)]);
    const results = await r.nagentAdmit(keys.length, ...keys, options.workspaceConcurrency, now, now + options.leaseMs, options.connectionRatePerSec, burst, ...items.map((i) => i.runId));
    return results.map((result): Admission => {
      if (result === 0) return { admitted: true };
      if (result < 0) return { admitted: false, reason: "workspace_cap", waitMs: 0 };
      return { admitted: false, reason: "rate_limit", waitMs: result };
    });
  }, batching);
  const releaseOne = createBatcher<{ workspaceId: string; runId: string; ended: boolean }, void>(async (items) => {
    const keys = items.flatMap((i) => [k("active", i.workspaceId), k("pending", i.workspaceId)]);
    await r.nagentRelease(keys.length, ...keys, ...items.flatMap((i) => [i.runId, i.ended ? "1" : "0"]));
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
      await releaseOne({ workspaceId, runId: "", ended: true });
    },
    /**
     * Admits one attempt of a run: a slot of the workspace's cap and a token of the connection's rate limit, in one
     * round trip. `{ admitted: true }` holds the slot until `release`; otherwise nothing is held and the run waits.
     */
    admit(workspaceId: string, runId: string, connectionId: string): Promise<Admission> {
      return admitOne({ workspaceId, runId, connectionId });
    },
    /** Gives back the run's workspace slot and, when the run ended, its pending count (batched with concurrent calls). */
    release(workspaceId: string, runId: string, ended: boolean): Promise<void> {
      return releaseOne({ workspaceId, runId, ended });
    },
    /** The upstream said "slow down" (429): pause every run of this connection until then. */
    async pauseConnection(connectionId: string, forMs: number): Promise<void> {
      const until = Date.now() + forMs;
      await redis.set(k("pause", connectionId), String(until), "PX", forMs + 1_000);
    },
  };
}

export type Fairness = ReturnType<typeof createFairness>;
