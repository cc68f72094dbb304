import type { Redis } from "ioredis";

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
 * Admission of one attempt, in one round trip: a workspace slot (KEYS[1]) and then a connection token (KEYS[2],
 * KEYS[3]). Returns 0 when admitted (slot taken), -1 when the workspace is at its cap, or the milliseconds to wait for
 * the connection's rate limit (the slot is then given back: a waiting run holds nothing).
 */
const ADMIT = `
local lease_key = KEYS[1]
local member = ARGV[1]
local cap = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local expires = tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', lease_key, '-inf', now)
local held = redis.call('ZSCORE', lease_key, member)
if not held and redis.call('ZCARD', lease_key) >= cap then return -1 end
local bucket = KEYS[2]
local pause_key = KEYS[3]
local rate = tonumber(ARGV[5])
local burst = tonumber(ARGV[6])
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
  return wait
end
redis.call('ZADD', lease_key, expires, member)
redis.call('PEXPIRE', lease_key, expires - now + 60000)
return 0
`;

type FairRedis = Redis & {
  nagentAdmit(leaseKey: string, bucketKey: string, pauseKey: string, member: string, cap: number, now: number, expires: number, rate: number, burst: number): Promise<number>;
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
  if (!("nagentAdmit" in r)) redis.defineCommand("nagentAdmit", { numberOfKeys: 3, lua: ADMIT });
  const k = (...parts: string[]) => [options.prefix, "fair", ...parts].join(":");
  const burst = options.connectionBurst ?? Math.max(1, Math.ceil(options.connectionRatePerSec * 2));
  const fastLane = options.workspaceConcurrency;

  return {
    /** Counts a new pending run of the workspace and returns the BullMQ priority for it (0 = fast lane). */
    async priorityFor(workspaceId: string): Promise<number> {
      const key = k("pending", workspaceId);
      const [[, rank]] = (await redis.multi().incr(key).pexpire(key, 3_600_000).exec()) as [[null, number], [null, number]];
      return rank <= fastLane ? 0 : Math.min(rank, 2_097_151);
    },
    /** The run is no longer pending (ended, or canceled). */
    async donePending(workspaceId: string): Promise<void> {
      const key = k("pending", workspaceId);
      const left = await redis.decr(key);
      if (left < 0) await redis.set(key, "0", "PX", 3_600_000);
    },
    /**
     * Admits one attempt of a run: a slot of the workspace's cap and a token of the connection's rate limit, in one
     * round trip. `{ admitted: true }` holds the slot until `release`; otherwise nothing is held and the run waits.
     */
    async admit(workspaceId: string, runId: string, connectionId: string): Promise<{ admitted: true } | { admitted: false; reason: "workspace_cap" | "rate_limit"; waitMs: number }> {
      const now = Date.now();
      const result = await r.nagentAdmit(k("active", workspaceId), k("rate", connectionId), k("pause", connectionId), runId,
        options.workspaceConcurrency, now, now + options.leaseMs, options.connectionRatePerSec, burst);
      if (result === 0) return { admitted: true };
      if (result < 0) return { admitted: false, reason: "workspace_cap", waitMs: 0 };
      return { admitted: false, reason: "rate_limit", waitMs: result };
    },
    /** Gives back the run's workspace slot and, when the run ended, its pending count, in one round trip. */
    async release(workspaceId: string, runId: string, ended: boolean): Promise<void> {
      const pipeline = redis.pipeline().zrem(k("active", workspaceId), runId);
      if (ended) pipeline.decr(k("pending", workspaceId));
      const results = await pipeline.exec();
      const left = ended ? (results?.[1]?.[1] as number | undefined) : undefined;
      if (left !== undefined && left < 0) await redis.set(k("pending", workspaceId), "0", "PX", 3_600_000);
    },
    /** The upstream said "slow down" (429): pause every run of this connection until then. */
    async pauseConnection(connectionId: string, forMs: number): Promise<void> {
      const until = Date.now() + forMs;
      await redis.set(k("pause", connectionId), String(until), "PX", forMs + 1_000);
    },
  };
}

export type Fairness = ReturnType<typeof createFairness>;
