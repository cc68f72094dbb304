// Issue 6, item 9: runs wait in the queue rather than fail or hold a worker (the per-connection rate limit), a queued
// run can be canceled, also between two attempts (a finished one cannot), and a run whose enqueue failed or was lost
// after its row was committed is picked up by the sweeper.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { uuidv7 } from "@nagent/db";
import { createRunStore, requestHash } from "@nagent/runs";
import { bearer, captureLogger, startOtherApi } from "../../support/app";
import { freePort } from "../../support/net";
import { createTestStack, type TestStack } from "../../support/stack";
import { executeAsync, getRun, waitForEnd } from "../../support/execution";
import { connectedWorkspace } from "../../support/workspace";

/** Two upstream calls a second per connection, with a burst of four (the token bucket's default: twice the rate). */
const RATE_PER_SEC = 2;
const BURST = 4;

let s: TestStack;
beforeAll(async () => {
  s = await createTestStack({
    env: { NAGENT_CONNECTION_RATE_PER_SEC: String(RATE_PER_SEC) },
    // The sweeper looks every half second for runs left queued half a second without a job.
    worker: { sweep: { queuedForMs: 500, everyMs: 500 } },
  });
});
afterAll(async () => {
  await s?.close();
});

const jobState = async (runId: string) => (await s.infra.producer.queue.getJob(runId))?.getState() ?? "missing";

describe("queueing", () => {
  it("the per-connection rate limit delays runs (queued, with a reason, their job delayed) and they all succeed", async () => {
    const ws = await connectedWorkspace(s, "rate-limited");
    const ids = [];
    for (let i = 0; i < BURST + 4; i++) ids.push(await executeAsync(s, ws.apiKey, "SCALE_AI_LIST_PROJECTS", { offset: i }));

    // While the bucket refills, the runs beyond the burst wait as delayed jobs, not in a worker.
    const last = ids.at(-1)!;
    await expect.poll(async () => (await getRun(s, ws.apiKey, last)).status_reason, { timeout: 10_000, interval: 20 }).toBe("waiting for the connection's rate limit");
    await expect.poll(() => jobState(last), { timeout: 10_000, interval: 20 }).toBe("delayed");
    expect((await getRun(s, ws.apiKey, last)).attempts_count).toBe(0);

    const runs = await Promise.all(ids.map((id) => waitForEnd(s, ws.apiKey, id)));
    expect(runs.map((r) => r.status)).toEqual(Array(ids.length).fill("succeeded"));
    // Waiting is not an attempt.
    expect(runs.map((r) => r.attempts_count)).toEqual(Array(ids.length).fill(1));
    expect(runs.every((r) => r.status_reason === null)).toBe(true);
    expect(ws.requests("GET /v1/projects") - 1).toBe(ids.length); // minus the connection's check
  });

  it("cancels a run queued behind the rate limit; it never reaches the upstream", async () => {
    const ws = await connectedWorkspace(s, "cancel");
    const ids = [];
    for (let i = 0; i < BURST + 6; i++) ids.push(await executeAsync(s, ws.apiKey, "SCALE_AI_LIST_PROJECTS", { offset: i }));
    const last = ids.at(-1)!;
    await expect.poll(async () => (await getRun(s, ws.apiKey, last)).status_reason, { timeout: 10_000, interval: 20 }).toBe("waiting for the connection's rate limit");

    const cancel = await s.app.inject({ method: "POST", url: `/v1/runs/${last}/cancel`, headers: bearer(ws.apiKey) });
    expect(cancel.statusCode, cancel.body).toBe(200);
    expect(cancel.json().run).toMatchObject({ id: last, status: "canceled", output: { successful: false, data: null, error: { code: "CANCELED" } } });
    // Its job is removed (or, if it was being looked at just then, finds the run canceled and ends).
    await expect.poll(() => jobState(last), { timeout: 10_000 }).toBe("missing");

    const others = await Promise.all(ids.slice(0, -1).map((id) => waitForEnd(s, ws.apiKey, id)));
    expect(others.every((r) => r.status === "succeeded")).toBe(true);
    const canceled = await getRun(s, ws.apiKey, last);
    expect(canceled).toMatchObject({ status: "canceled", attempts_count: 0, attempts: [] });
    expect(ws.requests("GET /v1/projects") - 1).toBe(ids.length - 1);

    // A finished run cannot be canceled.
    const done = await s.app.inject({ method: "POST", url: `/v1/runs/${ids[0]}/cancel`, headers: bearer(ws.apiKey) });
    expect(done.statusCode).toBe(409);
    expect(done.json().error.code).toBe("RUN_NOT_CANCELABLE");
    const again = await s.app.inject({ method: "POST", url: `/v1/runs/${last}/cancel`, headers: bearer(ws.apiKey) });
    expect(again.statusCode).toBe(409);
  });

  it("cancels a run waiting between attempts (a 429 asked for a minute); no further attempt is made", async () => {
    const ws = await connectedWorkspace(s, "cancel-between-attempts");
    ws.faults([{ route: "GET /v1/batches", rate_limit: { requests: 0, window_ms: 60_000, retry_after: true } }]);
    const id = await executeAsync(s, ws.apiKey, "SCALE_AI_LIST_BATCHES", {});
    await expect.poll(async () => (await getRun(s, ws.apiKey, id)).attempts.map((a) => a.outcome), { timeout: 10_000 }).toEqual(["retry"]);
    const waiting = await getRun(s, ws.apiKey, id);
    expect(waiting).toMatchObject({ status: "queued", status_reason: expect.stringContaining("UPSTREAM_RATE_LIMITED 429") });
    expect(waiting.attempts[0]!.retry_delay_ms).toBeGreaterThanOrEqual(59_000);

    const cancel = await s.app.inject({ method: "POST", url: `/v1/runs/${id}/cancel`, headers: bearer(ws.apiKey) });
    expect(cancel.statusCode, cancel.body).toBe(200);
    expect(cancel.json().run).toMatchObject({ status: "canceled", attempts_count: 1 });
    await expect.poll(() => jobState(id), { timeout: 10_000 }).toBe("missing");
    expect(ws.requests("GET /v1/batches")).toBe(1);
  });

  it("a run whose enqueue failed (Redis unreachable for the API) is answered with its id and run later by the sweeper", async () => {
    const ws = await connectedWorkspace(s, "redis-down", { projects: ["kitten_labeling"] });
    // A second API process over the same database whose Redis does not answer (a closed port): the run's row is
    // written, its enqueue fails fast.
    const { logger, logs } = captureLogger("warn");
    const cut = await startOtherApi(s, { logger, redisUrl: `redis://127.0.0.1:${await freePort()}` });
    let res;
    try {
      res = await cut.app.inject({ method: "POST", url: "/v1/actions/SCALE_AI_CREATE_BATCH/execute", headers: bearer(ws.apiKey), payload: { input: { name: "b_later", project: "kitten_labeling" }, mode: "async" } });
    } finally {
      await cut.close();
    }
    expect(res.statusCode, res.body).toBe(202);
    const runId = res.json().run_id as string;
    expect(res.json().status).toBe("queued");
    expect(logs.some((line) => line.includes("enqueue failed after commit") && line.includes(runId))).toBe(true);
    expect(await jobState(runId)).toBe("missing");

    const run = await waitForEnd(s, ws.apiKey, runId);
    expect(run).toMatchObject({ status: "succeeded", attempts_count: 1, output: { successful: true, data: { name: "b_later" } } });
    expect(ws.requests("POST /v1/batches")).toBe(1);
  });

  it("the sweeper enqueues a run whose enqueue was lost after commit, and it runs once", async () => {
    const ws = await connectedWorkspace(s, "lost-enqueue", { projects: ["kitten_labeling"] });
    // The run row as execute writes it, with no job behind it (as when Redis failed right after the commit).
    const id = uuidv7();
    const input = { name: "b_swept", project: "kitten_labeling" };
    const inserted = await createRunStore(s.db.pool).insert({
      id, workspaceId: ws.id, connectionId: ws.connectionId, integration: "scale_ai", action: "SCALE_AI_CREATE_BATCH", schemaVersion: 1,
      input, idempotencyKey: null, requestHash: requestHash({ action: "SCALE_AI_CREATE_BATCH", connectionId: ws.connectionId, input }),
    });
    expect(inserted.kind).toBe("created");
    expect(await jobState(id)).toBe("missing");

    const run = await waitForEnd(s, ws.apiKey, id);
    expect(run).toMatchObject({ status: "succeeded", attempts_count: 1, output: { successful: true, data: { name: "b_swept" } } });
    expect(ws.requests("POST /v1/batches")).toBe(1);
    expect(s.logs.some((line) => line.includes("re-enqueued a run whose job was lost") && line.includes(id))).toBe(true);
  });
});
