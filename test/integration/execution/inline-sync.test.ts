// Issue 17: a sync execute runs its run's first attempt in the API process when the workspace has a slot and the
// connection a turn right now (apps/api/src/services/execute-action.ts, "Inline attempt"); otherwise the run goes to
// the queue and a worker ends it, as before.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestStack, type TestStack } from "../../support/stack";
import { executeAsync, getRun, waitForEnd } from "../../support/execution";
import { connectedWorkspace } from "../../support/workspace";

describe("a sync execute with a slot free runs inline", () => {
  let s: TestStack;
  beforeAll(async () => {
    s = await createTestStack({ env: { NAGENT_SYNC_TIMEOUT_MS: "500" } });
    // No worker takes jobs in this block: whatever ends a run here, the API did.
    await s.workers.close();
  });
  afterAll(async () => {
    await s?.close();
  });

  it("ends its run in one attempt with no worker running, and leaves no job behind", async () => {
    const ws = await connectedWorkspace(s, "inline");
    const res = await s.execute(ws.apiKey, "SCALE_AI_LIST_PROJECTS", { input: {} });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ successful: true, error: null });
    const run = await getRun(s, ws.apiKey, res.body.run_id);
    expect(run).toMatchObject({ status: "succeeded", attempts_count: 1 });
    expect(run.attempts.map((a) => [a.number, a.outcome])).toEqual([[1, "succeeded"]]);
    expect(await s.infra.producer.queue.getJob(res.body.run_id)).toBeUndefined();
    // The slot was given back (a lease per running run): the workspace holds none.
    await expect.poll(() => s.infra.redis.zcard(`${s.config.queuePrefix}:fair:active:${ws.id}`)).toBe(0);
  });

  it("an attempt still running at the sync bound answers 202, goes on, and ends the run (settled at shutdown)", async () => {
    const ws = await connectedWorkspace(s, "inline-slow");
    ws.faults([{ route: "GET /v1/projects", latency_ms: 1_500, times: 1 }]);
    const before = ws.requests("GET /v1/projects"); // the connection's credential check called it too
    const res = await s.execute(ws.apiKey, "SCALE_AI_LIST_PROJECTS", { input: {} });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    expect(res.body.status).toBe("running");
    await s.deps.services.executeAction.settle();
    const run = await getRun(s, ws.apiKey, res.body.run_id);
    expect(run).toMatchObject({ status: "succeeded", attempts_count: 1 });
    expect(ws.requests("GET /v1/projects") - before).toBe(1);
  });

  it("a retry goes to the queue: the first attempt is recorded, the run waits for a worker", async () => {
    const ws = await connectedWorkspace(s, "inline-retry");
    ws.faults([{ route: "GET /v1/projects", error_rate: 1, error_status: 503, times: 1 }]);
    const res = await s.execute(ws.apiKey, "SCALE_AI_LIST_PROJECTS", { input: {} });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    expect(res.body.status).toBe("queued");
    const run = await getRun(s, ws.apiKey, res.body.run_id);
    expect(run.attempts.map((a) => [a.number, a.outcome, a.upstream_status])).toEqual([[1, "retry", 503]]);
    const job = await s.infra.producer.queue.getJob(res.body.run_id);
    expect(job?.data).toMatchObject({ runId: res.body.run_id, workspaceId: ws.id, sync: true });
    expect(await job?.getState()).toMatch(/^(delayed|wait|prioritized)$/);
  });
});

describe("a sync execute refused a slot goes to the queue", () => {
  let s: TestStack;
  beforeAll(async () => {
    s = await createTestStack({ env: { NAGENT_WORKSPACE_CONCURRENCY: "1" } });
  });
  afterAll(async () => {
    await s?.close();
  });

  it("waits for the workspace's one slot, then a worker ends it", async () => {
    const ws = await connectedWorkspace(s, "capped");
    ws.faults([{ route: "GET /v1/batches", latency_ms: 1_500, times: 1 }]);
    const slow = await executeAsync(s, ws.apiKey, "SCALE_AI_LIST_BATCHES", {});
    await expect.poll(async () => (await getRun(s, ws.apiKey, slow)).status, { timeout: 10_000 }).toBe("running");
    const res = await s.execute(ws.apiKey, "SCALE_AI_LIST_PROJECTS", { input: {} });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.successful).toBe(true);
    const [slowRun, run] = [await waitForEnd(s, ws.apiKey, slow), await getRun(s, ws.apiKey, res.body.run_id)];
    expect(run).toMatchObject({ status: "succeeded", attempts_count: 1 });
    // It ran once the slot was free, not beside the slow run.
    expect(Date.parse(run.attempts[0]!.started_at)).toBeGreaterThanOrEqual(Date.parse(slowRun.finished_at!));
  });
});
