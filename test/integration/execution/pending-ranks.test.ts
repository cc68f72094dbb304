// Fair ordering (packages/queue): a workspace's pending runs are counted, its first `workspaceConcurrency` enqueue in
// the fast lane (priority 0), later ones by rank; a run leaves the count when it ends or leaves without running.
import { afterAll, describe, expect, it } from "vitest";
import { createFairness, createRedis, createRunProducer } from "@nagent/queue";
import { deleteKeysWithPrefix, TEST_REDIS_URL, testQueuePrefix } from "../../support/redis";

const prefix = testQueuePrefix();
const redis = createRedis(TEST_REDIS_URL, "worker");
const fairness = createFairness(redis, { prefix, workspaceConcurrency: 2, connectionRatePerSec: 10, leaseMs: 60_000 });
const producer = createRunProducer({ redis, prefix, fairness });
afterAll(async () => {
  await producer.close();
  redis.disconnect();
  await deleteKeysWithPrefix(TEST_REDIS_URL, prefix);
});

describe("pending runs' ranks", () => {
  it("ranks each workspace's pending runs on its own: the first two in the fast lane, then by rank", async () => {
    expect(await Promise.all(["a", "a", "b", "a", "a", "b"].map((ws) => producer.reserve(ws)))).toEqual([0, 0, 0, 3, 4, 0]);
  });

  it("gives a rank back when a pending run leaves without running, and when a run ends; never below none", async () => {
    for (let i = 0; i < 3; i++) await producer.reserve("c");
    await producer.unreserve("c");
    await fairness.donePending("c");
    expect(await producer.reserve("c")).toBe(0); // the second pending run again
    expect(await producer.reserve("c")).toBe(3);
    expect((await fairness.admit("c", "run-1", "conn")).admitted).toBe(true);
    await fairness.release("c", "run-1", true);
    expect(await producer.reserve("c")).toBe(3);
    // More leaving than were counted (a count lost with its key) does not make the next run's rank go below one.
    for (let i = 0; i < 5; i++) await producer.unreserve("c");
    expect(await Promise.all([producer.reserve("c"), producer.reserve("c"), producer.reserve("c")])).toEqual([0, 0, 3]);
  });
});
