// Fair ordering (packages/queue): a sync execute's run enqueues with priority 0, ahead of every async run; a
// workspace's pending runs are counted, its first `workspaceConcurrency` async runs enqueue in the fast lane (priority
// 1), later ones by rank; a run leaves the count when it ends or leaves without running.
import { afterAll, describe, expect, it } from "vitest";
import { Worker } from "bullmq";
import { createFairness, createRedis, createRunProducer, RUNS_QUEUE } from "@nagent/queue";
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
    expect(await Promise.all(["a", "a", "b", "a", "a", "b"].map((ws) => producer.reserve(ws)))).toEqual([1, 1, 1, 3, 4, 1]);
  });

  it("gives a rank back when a pending run leaves without running, and when a run ends; never below none", async () => {
    for (let i = 0; i < 3; i++) await producer.reserve("c");
    await producer.unreserve("c");
    await fairness.donePending("c");
    expect(await producer.reserve("c")).toBe(1); // the second pending run again
    expect(await producer.reserve("c")).toBe(3);
    expect((await fairness.admit("c", "run-1", "conn")).admitted).toBe(true);
    await fairness.release("c", "run-1", true);
    expect(await producer.reserve("c")).toBe(3);
    // More leaving than were counted (a count lost with its key) does not make the next run's rank go below one.
    for (let i = 0; i < 5; i++) await producer.unreserve("c");
    expect(await Promise.all([producer.reserve("c"), producer.reserve("c"), producer.reserve("c")])).toEqual([1, 1, 3]);
  });

  it("a sync execute's run (the express lane) gets priority 0, whatever its rank; it is counted all the same", async () => {
    for (let i = 0; i < 3; i++) await producer.reserve("d");
    expect(await producer.reserve("d", "express")).toBe(0);
    expect(await producer.reserve("d")).toBe(5);
  });

  it("BullMQ serves a sync execute's run before an async backlog enqueued earlier", async () => {
    for (let i = 0; i < 5; i++) await producer.enqueue({ runId: `async-${i}`, workspaceId: "e", connectionId: "conn" }, await producer.reserve("e"));
    await producer.enqueue({ runId: "sync-1", workspaceId: "f", connectionId: "conn", sync: true }, await producer.reserve("f", "express"));
    // The next job a worker takes.
    const worker = new Worker(RUNS_QUEUE, null, { connection: createRedis(TEST_REDIS_URL, "worker"), prefix, autorun: false });
    try {
      expect((await worker.getNextJob("test-token"))?.id).toBe("sync-1");
      expect((await worker.getNextJob("test-token"))?.id).toBe("async-0");
    } finally {
      await worker.close(true);
    }
  });
});
