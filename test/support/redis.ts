import { randomBytes } from "node:crypto";
import { TEST_REDIS_URL } from "./env";

export { TEST_REDIS_URL };

/** A BullMQ key prefix of the test's own, so tests sharing one Redis never see each other's jobs. */
export function testQueuePrefix(): string {
  return `nt${randomBytes(5).toString("hex")}`;
}

/** Deletes every key of a test's prefix (its queues, fairness counters, metrics), so runs leave Redis as they found it. */
export async function deleteKeysWithPrefix(url: string, prefix: string): Promise<void> {
  const { Redis } = await import("ioredis");
  const redis = new Redis(url, { lazyConnect: true });
  redis.on("error", () => {});
  try {
    await redis.connect();
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== "0");
  } catch {
    // Redis unreachable (a test that stopped it): nothing to clean.
  } finally {
    redis.disconnect();
  }
}
