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

const TOKEN_BUCKET = `
local key = KEYS[1]
local pause_key = KEYS[2]
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local paused = tonumber(redis.call('GET', pause_key) or '0')
if paused > now then return paused - now end
local state = redis.call('HMGET', key, 'tokens', 'ts')
local tokens = tonumber(state[1]) or burst
local ts = tonumber(state[2]) or now
tokens = math.min(burst, tokens + (now - ts) * rate / 1000)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = math.ceil((1 - tokens) * 1000 / rate) end
redis.call('HSET', key, 'tokens', tokens, 'ts', now)
redis.call('PEXPIRE', key, math.ceil(burst * 1000 / rate) + 60000)
return wait
`;

const ACQUIRE_LEASE = `
local key = KEYS[1]
local member = ARGV[1]
local cap = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local expires = tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
if redis.call('ZSCORE', key, member) or redis.call('ZCARD', key) < cap then
  redis.call('ZADD', key, expires, member)
  redis.call('PEXPIRE', key, expires - now + 60000)
  return 1
end
return 0
`;

type FairRedis = Redis & {
  nagentTokenBucket(key: string, pauseKey: string, rate: number, burst: number, now: number): Promise<number>;
  nagentAcquireLease(key: string, member: string, cap: number, now: number, expires: number): Promise<number>;
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
  if (!("nagentTokenBucket" in r)) {
    redis.defineCommand("nagentTokenBucket", { numberOfKeys: 2, lua: TOKEN_BUCKET });
    redis.defineCommand("nagentAcquireLease", { numberOfKeys: 1, lua: ACQUIRE_LEASE });
  }
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
    /** Takes a slot of the workspace's concurrency cap for this run; false when the workspace is at its cap. */
    async acquireWorkspaceSlot(workspaceId: string, runId: string): Promise<boolean> {
      const now = Date.now();
      return (await r.nagentAcquireLease(k("active", workspaceId), runId, options.workspaceConcurrency, now, now + options.leaseMs)) === 1;
    },
    async releaseWorkspaceSlot(workspaceId: string, runId: string): Promise<void> {
      await redis.zrem(k("active", workspaceId), runId);
    },
    /** Takes a token of the connection's rate limit: 0 when the call may go now, else milliseconds to wait. */
    async takeConnectionToken(connectionId: string): Promise<number> {
      return r.nagentTokenBucket(k("rate", connectionId), k("pause", connectionId), options.connectionRatePerSec, burst, Date.now());
    },
    /** The upstream said "slow down" (429): pause every run of this connection until then. */
    async pauseConnection(connectionId: string, forMs: number): Promise<void> {
      const until = Date.now() + forMs;
      await redis.set(k("pause", connectionId), String(until), "PX", forMs + 1_000);
    },
  };
}

export type Fairness = ReturnType<typeof createFairness>;
