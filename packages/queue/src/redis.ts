import { Redis, type RedisOptions } from "ioredis";

/**
 * Redis connections as BullMQ's production guide asks: workers block on Redis and must retry forever
 * (`maxRetriesPerRequest: null`); producers in the API fail fast while Redis is down (no offline queue), so a request
 * is not held hostage and the run is picked up later by the sweeper.
 */
export function createRedis(url: string, role: "worker" | "producer", onError?: (error: Error) => void): Redis {
  const options: RedisOptions =
    role === "worker"
      ? { maxRetriesPerRequest: null, enableReadyCheck: true }
      : { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2_000 };
  const redis = new Redis(url, { ...options, retryStrategy: (times) => Math.min(times * 200, 2_000) });
  redis.on("error", (error) => onError?.(error));
  return redis;
}
