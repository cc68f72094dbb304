// Issue 17: async runs of one workspace enqueued together share one BullMQ job (a batch). Each run is still admitted,
// claimed and ended on its own, held by the batch's job; a run that must wait leaves the batch for a job of its own;
// the stuck-run sweeper does not take a run still waiting in a live batch for lost.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Worker } from "bullmq";
import { uuidv7 } from "@nagent/db";
import { createFairness, createRedis, createRunProducer, RUN_BATCH_JOB_NAME, RUNS_QUEUE, type RunJobData } from "@nagent/queue";
import { createTestStack, type TestStack } from "../../support/stack";
import { enqueueTogether, waitForEnd } from "../../support/execution";
import { connectedWorkspace, type ConnectedWorkspace } from "../../support/workspace";
import { deleteKeysWithPrefix, TEST_REDIS_URL, testQueuePrefix } from "../../support/redis";

const run = (workspaceId: string, extra: Partial<RunJobData> = {}): RunJobData => ({ runId: uuidv7(), workspaceId, connectionId: "conn", ...extra });

describe("the producer's batches (no worker)", () => {
  const prefix = testQueuePrefix();
  const redis = createRedis(TEST_REDIS_URL, "worker");
  const fairness = createFairness(redis, { prefix, workspaceConcurrency: 2, connectionRatePerSec: 10, leaseMs: 60_000 });
  const producer = createRunProducer({ redis, prefix, fairness, batchMax: 3 });
  const unbatched = createRunProducer({ redis, prefix: `${prefix}u`, fairness, batchMax: 1 });
  const batched = (runId: string) => redis.hget(`${prefix}:${RUNS_QUEUE}:batched`, runId);
  afterAll(async () => {
    await Promise.all([producer.close(), unbatched.close()]);
    redis.disconnect();
    await deleteKeysWithPrefix(TEST_REDIS_URL, prefix);
  });

  it("puts the async runs of a workspace that asked meanwhile in batches of at most batchMax, on their best priority", async () => {
    // One add is in flight at a time: the first call goes alone, the rest wait for it and share the next add.
    const first = run("w1");
    const rest = [run("w1"), run("w1"), run("w1"), run("w1"), run("w2"), run("w3", { sync: true }), run("w1")];
    const delayed = run("w1");
    await Promise.all([
      producer.enqueue(first, 1),
      ...rest.map((r, i) => producer.enqueue(r, r.sync ? 0 : 10 - i)),
      producer.enqueue(delayed, 1, 60_000),
    ]);
    const w1 = [rest[0]!, rest[1]!, rest[2]!, rest[3]!, rest[6]!];
    const job = (id: string) => producer.queue.getJob(id);
    expect((await job(first.runId))?.name).toBe("run");
    const a = await job(`batch-${w1[0]!.runId}`);
    const b = await job(`batch-${w1[3]!.runId}`);
    expect(a?.name).toBe(RUN_BATCH_JOB_NAME);
    expect(a?.data).toEqual({ runs: w1.slice(0, 3) });
    expect(a?.opts.priority).toBe(8); // the best (lowest) of 10, 9, 8
    expect(b?.data).toEqual({ runs: w1.slice(3) });
    expect(b?.opts.priority).toBe(4);
    // A workspace's lone run, a sync execute's run and a delayed one get jobs of their own.
    expect((await job(rest[4]!.runId))?.data).toEqual(rest[4]);
    expect((await job(rest[5]!.runId))?.opts.priority).toBe(0);
    expect(await (await job(delayed.runId))?.getState()).toBe("delayed");
    // Which batch each batched run waits in, for the sweeper.
    expect(await batched(w1[1]!.runId)).toBe(`batch-${w1[0]!.runId}`);
    expect(await batched(w1[4]!.runId)).toBe(`batch-${w1[3]!.runId}`);
    expect(await batched(first.runId)).toBeNull();
    await producer.batchDone(a!.data as { runs: RunJobData[] });
    expect(await batched(w1[1]!.runId)).toBeNull();
  });

  it("with batchMax 1, every run gets a job of its own", async () => {
    const runs = [run("w4"), run("w4"), run("w4")];
    await Promise.all(runs.map((r) => unbatched.enqueue(r, 1)));
    for (const r of runs) expect((await unbatched.queue.getJob(r.runId))?.data).toEqual(r);
  });

  it("the sweeper's re-enqueue leaves a run waiting in a live batch alone, and adds a job of its own once the batch is gone", async () => {
    const [lone, r1, r2] = [run("w5"), run("w5"), run("w5")];
    await Promise.all([producer.enqueue(lone, 1), producer.enqueue(r1, 1), producer.enqueue(r2, 1)]);
    let handedOver = 0;
    const before = async () => void handedOver++;
    expect(await producer.reenqueue(r2, before)).toBe("exists");
    expect(await producer.reenqueue(lone, before)).toBe("exists");
    expect(handedOver).toBe(0);
    // The batch is taken by a worker: it is still live.
    const worker = new Worker(RUNS_QUEUE, null, { connection: createRedis(TEST_REDIS_URL, "worker"), prefix, autorun: false });
    try {
      let taken;
      while ((taken = await worker.getNextJob("test-token")) && taken.id !== `batch-${r1.runId}`);
      expect(taken?.id).toBe(`batch-${r1.runId}`);
      expect(await producer.reenqueue(r2, before)).toBe("exists");
      // The batch is lost (its job gone while the entry stayed): the run gets a job of its own, handed over first.
      await redis.del(`${prefix}:${RUNS_QUEUE}:batch-${r1.runId}`);
      expect(await producer.reenqueue(r2, before)).toBe("added");
      expect(handedOver).toBe(1);
      expect((await producer.queue.getJob(r2.runId))?.data).toEqual(r2);
    } finally {
      await worker.close(true);
    }
  });
});

describe("batches through the worker", () => {
  /** Two runs of a workspace at once: a batch of six makes four of them wait, each in a job of its own. */
  const CAP = 2;
  let s: TestStack;
  let ws: ConnectedWorkspace;
  beforeAll(async () => {
    s = await createTestStack({ env: { NAGENT_WORKSPACE_CONCURRENCY: String(CAP) } });
    ws = await connectedWorkspace(s, "batches");
  });
  afterAll(() => s?.close());

  it("runs each run of a batch once, held by the batch; runs beyond the workspace's cap leave it to wait, and all succeed", async () => {
    const ids = await enqueueTogether(s, ws, "SCALE_AI_LIST_PROJECTS", Array.from({ length: 7 }, (_, i) => ({ offset: i })));
    const runs = await Promise.all(ids.map((id) => waitForEnd(s, ws.apiKey, id)));
    expect(runs.map((r) => r.status)).toEqual(Array(ids.length).fill("succeeded"));
    expect(runs.map((r) => r.attempts_count)).toEqual(Array(ids.length).fill(1));
    expect(ws.requests("GET /v1/projects") - 1).toBe(ids.length); // minus the connection's check
    const { rows } = await s.db.pool.query<{ id: string; claimed_by: string }>("SELECT id, claimed_by FROM run WHERE id = ANY($1)", [ids]);
    const holder = new Map(rows.map((r) => [r.id, r.claimed_by]));
    const batchId = `batch-${ids[1]}`;
    const inBatch = ids.slice(1).filter((id) => holder.get(id) === batchId);
    const ownJob = ids.slice(1).filter((id) => holder.get(id) === id);
    // The cap let some go in the batch; the others waited in a job of their own.
    expect(inBatch.length).toBeGreaterThanOrEqual(1);
    expect(ownJob.length).toBeGreaterThanOrEqual(1);
    expect(inBatch.length + ownJob.length).toBe(ids.length - 1);
    // The batch is done: the sweeper's entries are gone.
    await expect.poll(() => s.infra.redis.hlen(`${s.config.queuePrefix}:${RUNS_QUEUE}:batched`)).toBe(0);
  });
});
