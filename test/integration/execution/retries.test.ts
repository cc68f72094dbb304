// Issue 6, item 9 (and the retry policy): upstream 429 bursts, 503s, Retry-After, hangs, lost requests and answers,
// 400 and 401, each provoked with the sandbox's fault injection on a workspace's own Scale key (answers are lost by a
// proxy in front of the sandbox).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer } from "../../support/app";
import { createTestStack, type TestStack } from "../../support/stack";
import { startLossyProxy } from "../../support/lossy-proxy";
import { executeAsync, getRun, waitForEnd } from "../../support/execution";
import { connectedWorkspace } from "../../support/workspace";

const TIMEOUT_MS = 1_000;
const MAX_ATTEMPTS = 4;

let s: TestStack;
let proxy: Awaited<ReturnType<typeof startLossyProxy>>;
beforeAll(async () => {
  s = await createTestStack({ env: { NAGENT_UPSTREAM_TIMEOUT_MS: String(TIMEOUT_MS), NAGENT_MAX_ATTEMPTS: String(MAX_ATTEMPTS) } });
  proxy = await startLossyProxy(s.sandbox.url);
});
afterAll(async () => {
  await s?.close();
  await proxy?.close();
});

/** A workspace with its own key and a project to put batches and tasks in. */
const workspaceWithProject = (name: string, baseUrl?: string) => connectedWorkspace(s, name, { projects: ["kitten_labeling"], ...(baseUrl ? { baseUrl } : {}) });

const imageTask = (uniqueId: string) => ({
  project: "kitten_labeling",
  unique_id: uniqueId,
  attachment: "https://example.com/images/kitten_001.jpg",
  geometries: { box: { objects_to_annotate: ["kitten"] } },
});

describe("retries", () => {
  it("a burst of 429s ends in success, every attempt recorded", async () => {
    const ws = await workspaceWithProject("burst-429");
    ws.faults([{ route: "POST /v1/batches", rate_limit: { requests: 0, window_ms: 60_000 }, times: 3 }]);
    const res = await s.execute(ws.apiKey, "SCALE_AI_CREATE_BATCH", { input: { name: "b1", project: "kitten_labeling" } });
    expect(res.body).toMatchObject({ successful: true, data: { name: "b1" } });
    const run = await getRun(s, ws.apiKey, res.body.run_id);
    expect(run).toMatchObject({ status: "succeeded", attempts_count: 4 });
    expect(run.attempts.map((a) => [a.outcome, a.upstream_status, a.error_code])).toEqual([
      ["retry", 429, "UPSTREAM_RATE_LIMITED"], ["retry", 429, "UPSTREAM_RATE_LIMITED"], ["retry", 429, "UPSTREAM_RATE_LIMITED"], ["succeeded", 200, null],
    ]);
    expect(run.attempts.every((a) => a.finished_at !== null)).toBe(true);
    expect(run.attempts.slice(0, 3).every((a) => typeof a.retry_delay_ms === "number")).toBe(true);
    expect(ws.requests("POST /v1/batches")).toBe(4);
  });

  it("503s end in success with the attempts recorded; GET /v1/runs/:id shows attempts and timings", async () => {
    const ws = await workspaceWithProject("unavailable-503");
    ws.faults([{ route: "POST /v1/batches", error_rate: 1, error_status: 503, times: 2 }]);
    const res = await s.execute(ws.apiKey, "SCALE_AI_CREATE_BATCH", { input: { name: "b1", project: "kitten_labeling" } });
    expect(res.body.successful).toBe(true);
    const run = await getRun(s, ws.apiKey, res.body.run_id);
    expect(run.attempts.map((a) => [a.number, a.outcome, a.upstream_status, a.error_code])).toEqual([
      [1, "retry", 503, "UPSTREAM_UNAVAILABLE"], [2, "retry", 503, "UPSTREAM_UNAVAILABLE"], [3, "succeeded", 200, null],
    ]);
    expect(run.started_at).toBe(run.attempts[0]!.started_at);
    expect(run.duration_ms).toBe(Date.parse(run.finished_at!) - Date.parse(run.started_at!));
    for (const [i, a] of run.attempts.entries()) {
      expect(Date.parse(a.finished_at!)).toBeGreaterThanOrEqual(Date.parse(a.started_at));
      if (i > 0) expect(Date.parse(a.started_at)).toBeGreaterThanOrEqual(Date.parse(run.attempts[i - 1]!.finished_at!));
    }
  });

  it("honours Retry-After: the next attempt does not start before it", async () => {
    const ws = await workspaceWithProject("retry-after");
    // One 429 with Retry-After: 1 (the sandbox rounds the window's remainder up to whole seconds).
    ws.faults([{ route: "POST /v1/batches", rate_limit: { requests: 0, window_ms: 1_000, retry_after: true }, times: 1 }]);
    const res = await s.execute(ws.apiKey, "SCALE_AI_CREATE_BATCH", { input: { name: "b1", project: "kitten_labeling" } });
    expect(res.body.successful).toBe(true);
    const run = await getRun(s, ws.apiKey, res.body.run_id);
    const [first, second] = run.attempts;
    expect(first).toMatchObject({ outcome: "retry", upstream_status: 429 });
    expect(first!.retry_delay_ms).toBeGreaterThanOrEqual(1_000);
    // Both times are PostgreSQL's, shown to the millisecond (hence the 1 ms of rounding).
    expect(Date.parse(second!.started_at) - Date.parse(first!.finished_at!)).toBeGreaterThanOrEqual(1_000 - 1);
  });

  it("a hang ends in UPSTREAM_TIMEOUT after the configured number of attempts", async () => {
    const ws = await workspaceWithProject("hang");
    ws.faults([{ route: "GET /v1/projects", hang: true }]);
    const before = ws.requests("GET /v1/projects"); // the connection's own check used this route
    const res = await s.execute(ws.apiKey, "SCALE_AI_LIST_PROJECTS", { input: {} });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ successful: false, data: null, error: { code: "UPSTREAM_TIMEOUT", retryable: true } });
    const run = await getRun(s, ws.apiKey, res.body.run_id);
    expect(run.status).toBe("failed");
    expect(run.attempts.map((a) => [a.outcome, a.error_code])).toEqual([
      ...Array.from({ length: MAX_ATTEMPTS - 1 }, () => ["retry", "UPSTREAM_TIMEOUT"]), ["failed", "UPSTREAM_TIMEOUT"],
    ]);
    expect(ws.requests("GET /v1/projects") - before).toBe(MAX_ATTEMPTS);
  });

  it("a 400 fails at once, with one attempt", async () => {
    const ws = await workspaceWithProject("bad-request");
    // Not a pending Studio batch: Scale refuses the order with a 400.
    const res = await s.execute(ws.apiKey, "SCALE_AI_SET_BATCH_PRIORITIES", { input: { batches: [{ name: "nope" }] } });
    expect(res.body).toMatchObject({ successful: false, error: { code: "UPSTREAM_BAD_REQUEST", upstream_status: 400, retryable: false, message: expect.stringContaining("nope") } });
    const run = await getRun(s, ws.apiKey, res.body.run_id);
    expect(run.attempts.map((a) => [a.outcome, a.upstream_status])).toEqual([["failed", 400]]);
    expect(ws.requests("POST /v1/studio/batches/set_priorities")).toBe(1);
  });

  it("a 401 marks the connection invalid; the next run fails fast with CONNECTION_INVALID", async () => {
    const ws = await workspaceWithProject("revoked");
    // The key is revoked at Scale after the connection was made.
    s.sandbox.control.removeKey(ws.scaleKey);
    const res = await s.execute(ws.apiKey, "SCALE_AI_LIST_PROJECTS", { input: {} });
    expect(res.body).toMatchObject({ successful: false, error: { code: "UPSTREAM_UNAUTHORIZED", upstream_status: 401, retryable: false } });
    expect((await getRun(s, ws.apiKey, res.body.run_id)).attempts).toHaveLength(1);
    const connection = await s.app.inject({ method: "GET", url: `/v1/connections/${ws.connectionId}`, headers: bearer(ws.apiKey) });
    expect(connection.json().connection.status).toBe("invalid");

    const next = await s.execute(ws.apiKey, "SCALE_AI_LIST_PROJECTS", { input: {} });
    expect(next.status).toBe(409);
    expect(next.body.error.code).toBe("CONNECTION_INVALID");
  });

  it("a create-task whose answer was lost is retried without creating a second task: 409 → found by unique_id", async () => {
    const ws = await workspaceWithProject("lost-answer", proxy.url);
    // Scale creates the task, but its answer never comes back; the retry meets Scale's 409 for the reused unique_id
    // and finds the task by it, as Scale's SDK does.
    proxy.rule({ route: "POST /v1/task/imageannotation", drop: true });
    const res = await s.execute(ws.apiKey, "SCALE_AI_CREATE_IMAGE_ANNOTATION_TASK", { input: imageTask("kitten_lost_1") });
    expect(res.body).toMatchObject({ successful: true, data: { unique_id: "kitten_lost_1", type: "imageannotation" } });
    expect(proxy.disturbed).toEqual([{ route: "POST /v1/task/imageannotation", status: 200 }]);
    const run = await getRun(s, ws.apiKey, res.body.run_id);
    expect(run.attempts.map((a) => [a.outcome, a.error_code])).toEqual([["retry", "UPSTREAM_UNAVAILABLE"], ["succeeded", null]]);
    expect(ws.requests("POST /v1/task/:type")).toBe(2);
    expect(ws.requests("GET /v1/tasks")).toBe(1); // the lookup by unique_id after the 409

    const tasks = await s.execute(ws.apiKey, "SCALE_AI_LIST_TASKS", { input: { project: "kitten_labeling" } });
    expect(tasks.body.data.docs.map((t: { task_id: string }) => t.task_id)).toEqual([res.body.data.task_id]);
  });

  it("a create-task whose answer came too late (timeout) is retried without creating a second task", async () => {
    const ws = await workspaceWithProject("late-answer", proxy.url);
    proxy.rule({ route: "POST /v1/task/imageannotation", delayMs: TIMEOUT_MS + 500 });
    const res = await s.execute(ws.apiKey, "SCALE_AI_CREATE_IMAGE_ANNOTATION_TASK", { input: imageTask("kitten_late_1") });
    expect(res.body).toMatchObject({ successful: true, data: { unique_id: "kitten_late_1" } });
    const run = await getRun(s, ws.apiKey, res.body.run_id);
    expect(run.attempts.map((a) => [a.outcome, a.error_code])).toEqual([["retry", "UPSTREAM_TIMEOUT"], ["succeeded", null]]);
    const tasks = await s.execute(ws.apiKey, "SCALE_AI_LIST_TASKS", { input: { project: "kitten_labeling" } });
    expect(tasks.body.data.docs).toHaveLength(1);
  });

  it("a create-task whose request was dropped is retried and creates exactly one task", async () => {
    const ws = await workspaceWithProject("dropped");
    ws.faults([{ route: "POST /v1/task/*", drop: true, times: 1 }]);
    const id = await executeAsync(s, ws.apiKey, "SCALE_AI_CREATE_IMAGE_ANNOTATION_TASK", imageTask("kitten_drop_1"));
    const run = await waitForEnd(s, ws.apiKey, id);
    expect(run.status).toBe("succeeded");
    expect(run.attempts.map((a) => [a.outcome, a.error_code])).toEqual([["retry", "UPSTREAM_UNAVAILABLE"], ["succeeded", null]]);
    const tasks = await s.execute(ws.apiKey, "SCALE_AI_LIST_TASKS", { input: { project: "kitten_labeling" } });
    expect(tasks.body.data.docs).toHaveLength(1);
  });
});
