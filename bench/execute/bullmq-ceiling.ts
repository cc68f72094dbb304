import { Queue, Worker } from "bullmq";
import { Redis } from "ioredis";

/**
 * BullMQ's no-op ceiling on this machine: `jobs` empty jobs added with addBulk (batches of 1,000) and processed by
 * one worker of the given concurrency, timed from the first add to the last completion.
 */
export async function measureBullmqCeiling(redisUrl: string, prefix: string, jobs: number, concurrency: number): Promise<{ jobs: number; jobsPerSec: number }> {
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue("noop", { connection, prefix });
  let done = 0;
  let resolveAll: () => void;
  const all = new Promise<void>((r) => (resolveAll = r));
  const worker = new Worker("noop", async () => {}, { connection, prefix, concurrency });
  worker.on("completed", () => {
    if (++done === jobs) resolveAll();
  });
  await worker.waitUntilReady();
  const started = performance.now();
  for (let i = 0; i < jobs; i += 1_000) {
    await queue.addBulk(Array.from({ length: Math.min(1_000, jobs - i) }, (_, j) => ({ name: "noop", data: { i: i + j }, opts: { removeOnComplete: true } })));
  }
  await all;
  const seconds = (performance.now() - started) / 1000;
  await worker.close();
  await queue.obliterate({ force: true }).catch(() => {});
  await queue.close();
  connection.disconnect();
  return { jobs, jobsPerSec: jobs / seconds };
}

/** Deletes every Redis key of a benchmark's queue prefix. */
export async function clearPrefix(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl);
  try {
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== "0");
  } finally {
    redis.disconnect();
  }
}
