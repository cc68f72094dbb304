// Issue 17: a sync execute runs its run's first attempt in the API process when the workspace has a slot and the
// connection a turn right now (apps/api/src/services/execute-action.ts, "Inline attempt"); otherwise the run goes to
// the queue and a worker ends it, as before.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer } from "../../support/app";
import { createTestStack, type TestStack } from "../../support/stack";
import { executeAsync, getRun, waitForEnd } from "../../support/execution";
import { connectedWorkspace } from "../../support/workspace";

/** The named (prepared) statements the stack's pool ran during `fn`: the run store's hot statements have names. */
async function namedStatementsDuring<T>(s: TestStack, fn: () => Promise<T>): Promise<{ result: T; names: string[] }> {
  const names: string[] = [];
  const pool = s.db.pool;
  const query = pool.query;
  pool.query = ((config: unknown, ...rest: unknown[]) => {
    if (config && typeof config === "object" && "name" in config) names.push(String(config.name));
    return (query as (...args: unknown[]) => unknown).call(pool, config, ...rest);
  }) as typeof pool.query;
  try {
    return { result: await fn(), names };
  } finally {
    pool.query = query;
  }
}

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

    // The first call learnt the workspace's default connection: the next one is admitted before its insert, which
    // claims it in the same statement (no claim of its own), and ends the same way.
    const statements = await namedStatementsDuring(s, () => s.execute(ws.apiKey, "SCALE_AI_LIST_PROJECTS", { input: {} }));
    const next = statements.result;
    expect(next.status, JSON.stringify(next.body)).toBe(200);
    expect(statements.names.filter((n) => n.startsWith("run-"))).toEqual(["run-insert-claimed-one", "run-finish-one"]);
    expect((await getRun(s, ws.apiKey, next.body.run_id)).attempts.map((a) => [a.number, a.outcome])).toEqual([[1, "succeeded"]]);
    await expect.poll(() => s.infra.redis.zcard(`${s.config.queuePrefix}:fair:active:${ws.id}`)).toBe(0);
  });

  it("watches the run events only for a run that did not end inline: no NOTIFY reaches the API for one that did", async () => {
    const ws = await connectedWorkspace(s, "inline-unwatched");
    const events = s.infra.events;
    const watch = events.watch;
    const watched: string[] = [];
    let slowRunId = "";
    events.watch = (runId: string) => {
      watched.push(runId);
      return watch.call(events, runId);
    };
    try {
      const res = await s.execute(ws.apiKey, "SCALE_AI_LIST_PROJECTS", { input: {} });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(watched).toEqual([]);
      // Past the sync bound (500 ms here) the run has not ended inline: its end is watched, and the answer is 202.
      ws.faults([{ route: "GET /v1/projects", latency_ms: 1_000, times: 1 }]);
      const slow = await s.execute(ws.apiKey, "SCALE_AI_LIST_PROJECTS", { input: {} });
      expect(slow.status, JSON.stringify(slow.body)).toBe(202);
      slowRunId = slow.body.run_id;
      expect(watched).toEqual([slowRunId]);
    } finally {
      events.watch = watch;
    }
    await s.deps.services.executeAction.settle();
    expect(await getRun(s, ws.apiKey, slowRunId)).toMatchObject({ status: "succeeded", attempts_count: 1 });
  });

  it("sends no run event for the claiming insert (nobody can follow the run yet): its one event is its end", async () => {
    const ws = await connectedWorkspace(s, "inline-events");
    expect((await s.execute(ws.apiKey, "SCALE_AI_LIST_PROJECTS", { input: {} })).status).toBe(200); // the API learns the default
    const seen: [string, string][] = [];
    const stop = s.infra.events.onWorkspace(ws.id, (event) => seen.push([event.id, event.status]));
    try {
      await s.infra.events.ready();
      const statements = await namedStatementsDuring(s, () => s.execute(ws.apiKey, "SCALE_AI_LIST_PROJECTS", { input: {} }));
      expect(statements.result.status).toBe(200);
      expect(statements.names.filter((n) => n.startsWith("run-"))).toEqual(["run-insert-claimed-one", "run-finish-one"]);
      // (an earlier run's event may still arrive: only this run's count)
      await expect.poll(() => seen.filter(([id]) => id === statements.result.body.run_id).map(([, status]) => status)).toEqual(["succeeded"]);
    } finally {
      stop();
    }
  });

  it("reserves no queue turn for a run that ends inline: the workspace's pending count never moves", async () => {
    const ws = await connectedWorkspace(s, "inline-no-turn");
    expect((await s.execute(ws.apiKey, "SCALE_AI_LIST_PROJECTS", { input: {} })).status).toBe(200); // the API learns the default
    const producer = s.infra.producer;
    const reserve = producer.reserve;
    const lanes: string[] = [];
    producer.reserve = (workspaceId, lane) => {
      lanes.push(lane ?? "bulk");
      return reserve.call(producer, workspaceId, lane);
    };
    try {
      const res = await s.execute(ws.apiKey, "SCALE_AI_LIST_PROJECTS", { input: {} });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect((await getRun(s, ws.apiKey, res.body.run_id)).attempts.map((a) => [a.number, a.outcome])).toEqual([[1, "succeeded"]]);
      expect(lanes).toEqual([]);
    } finally {
      producer.reserve = reserve;
    }
    expect(Number(await s.infra.redis.get(`${s.config.queuePrefix}:fair:pending:${ws.id}`))).toBe(0);
    await expect.poll(() => s.infra.redis.zcard(`${s.config.queuePrefix}:fair:active:${ws.id}`)).toBe(0);
  });

  it("a run its insert claimed while Redis did not answer its admission goes back to the queue: no attempt counted", async () => {
    const ws = await connectedWorkspace(s, "inline-no-admission");
    expect((await s.execute(ws.apiKey, "SCALE_AI_LIST_PROJECTS", { input: {} })).status).toBe(200); // the API learns the default
    const fairness = s.infra.fairness;
    const admit = fairness.admit;
    fairness.admit = () => Promise.reject(new Error("Redis did not answer"));
    let runId: string;
    try {
      const statements = await namedStatementsDuring(s, () => s.execute(ws.apiKey, "SCALE_AI_LIST_PROJECTS", { input: {} }));
      const res = statements.result;
      expect(res.status, JSON.stringify(res.body)).toBe(202);
      runId = res.body.run_id;
      // Claimed by its insert while the admission was on its way, then put back.
      expect(statements.names.filter((n) => n.startsWith("run-")).slice(0, 2)).toEqual(["run-insert-claimed-one", "run-unclaim"]);
    } finally {
      fairness.admit = admit;
    }
    const { rows } = await s.db.pool.query("SELECT status, attempts_count, started_at, claimed_by FROM run WHERE id = $1", [runId]);
    expect(rows[0]).toEqual({ status: "queued", attempts_count: 0, started_at: null, claimed_by: null });
    expect((await getRun(s, ws.apiKey, runId)).attempts).toEqual([]);
    // Its job waits for a worker (none runs in this block), on the turn it reserved when it went to the queue.
    const job = await s.infra.producer.queue.getJob(runId);
    expect(job?.data).toMatchObject({ runId, workspaceId: ws.id, sync: true });
    expect(Number(await s.infra.redis.get(`${s.config.queuePrefix}:fair:pending:${ws.id}`))).toBe(1);
    expect(await s.infra.redis.zcard(`${s.config.queuePrefix}:fair:active:${ws.id}`)).toBe(0);
  });

  it("a changed default connection: the run binds to the new default, the hint's admission is given back", async () => {
    const ws = await connectedWorkspace(s, "inline-default");
    const first = await s.execute(ws.apiKey, "SCALE_AI_LIST_PROJECTS", { input: {} }); // the API learns the default
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    const other = await s.app.inject({
      method: "POST", url: "/v1/connections", headers: bearer(ws.apiKey),
      payload: { integration: "scale_ai", name: "second", credentials: { api_key: ws.scaleKey }, base_url: s.sandbox.url },
    });
    expect(other.statusCode, other.body).toBe(201);
    const second = other.json().connection.id as string;
    const promoted = await s.app.inject({ method: "PATCH", url: `/v1/connections/${second}`, headers: bearer(ws.apiKey), payload: { is_default: true } });
    expect(promoted.statusCode, promoted.body).toBe(200);

    const res = await s.execute(ws.apiKey, "SCALE_AI_LIST_PROJECTS", { input: {} });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const { rows } = await s.db.pool.query("SELECT connection_id, attempts_count FROM run WHERE id = $1", [res.body.run_id]);
    expect(rows[0]).toEqual({ connection_id: second, attempts_count: 1 });
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
    // Its queue turn was reserved when it went to the queue: it counts among the workspace's pending runs.
    expect(Number(await s.infra.redis.get(`${s.config.queuePrefix}:fair:pending:${ws.id}`))).toBe(1);
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
    const call = s.execute(ws.apiKey, "SCALE_AI_LIST_PROJECTS", { input: {} });
    // Meanwhile the run says why it waits.
    await expect.poll(async () => (await s.db.pool.query("SELECT status, status_reason FROM run WHERE workspace_id = $1 AND action = 'SCALE_AI_LIST_PROJECTS'", [ws.id])).rows, { timeout: 5_000 })
      .toEqual([{ status: "queued", status_reason: "waiting for a slot of the workspace's concurrency cap" }]);
    const res = await call;
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.successful).toBe(true);
    const [slowRun, run] = [await waitForEnd(s, ws.apiKey, slow), await getRun(s, ws.apiKey, res.body.run_id)];
    expect(run).toMatchObject({ status: "succeeded", attempts_count: 1 });
    // Its insert claimed it while the admission was on its way; refused, the claim was undone: one attempt, the worker's.
    expect(run.attempts.map((a) => [a.number, a.outcome])).toEqual([[1, "succeeded"]]);
    // It ran once the slot was free, not beside the slow run.
    expect(Date.parse(run.attempts[0]!.started_at)).toBeGreaterThanOrEqual(Date.parse(slowRun.finished_at!));
  });
});

describe("NAGENT_SYNC_INLINE=false", () => {
  let s: TestStack;
  beforeAll(async () => {
    s = await createTestStack({ env: { NAGENT_SYNC_INLINE: "false", NAGENT_SYNC_TIMEOUT_MS: "500" } });
    await s.workers.close();
  });
  afterAll(async () => {
    await s?.close();
  });

  it("sends a sync execute's run to the queue: with no worker it is still queued at the bound, its job waiting", async () => {
    const ws = await connectedWorkspace(s, "queued-only");
    const res = await s.execute(ws.apiKey, "SCALE_AI_LIST_PROJECTS", { input: {} });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    expect(res.body.status).toBe("queued");
    const job = await s.infra.producer.queue.getJob(res.body.run_id);
    expect(job?.data).toMatchObject({ runId: res.body.run_id, sync: true });
    expect((await getRun(s, ws.apiKey, res.body.run_id)).attempts).toEqual([]);
  });
});
