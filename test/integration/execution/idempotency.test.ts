// Issue 6, item 9 and the Idempotency-Key rules (as Stripe defines them): the same key and body within 24 h answer
// the same run and envelope, even while the run is still going; a different body is refused; keys are per workspace.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestStack, type TestStack } from "../../support/stack";
import { getRun } from "../../support/execution";
import { connectedWorkspace } from "../../support/workspace";

let s: TestStack;
beforeAll(async () => {
  s = await createTestStack();
});
afterAll(async () => {
  await s?.close();
});

const workspaceWithProject = (name: string) => connectedWorkspace(s, name, { projects: ["kitten_labeling"] });

const batch = (name: string) => ({ input: { name, project: "kitten_labeling" } });

describe("Idempotency-Key", () => {
  it("sent 20 times concurrently makes one run, and every answer is that run's envelope", async () => {
    const ws = await workspaceWithProject("concurrent");
    const answers = await Promise.all(Array.from({ length: 20 }, () => s.execute(ws.apiKey, "SCALE_AI_CREATE_BATCH", batch("b_once"), { "idempotency-key": "key-concurrent" })));
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
    const runIds = new Set(answers.map((a) => a.body.run_id));
    expect(runIds.size).toBe(1);
    for (const a of answers) expect(a.body).toEqual({ run_id: answers[0]!.body.run_id, data: answers[0]!.body.data, error: null, successful: true });
    expect(answers.filter((a) => a.headers["idempotency-replayed"] === "true")).toHaveLength(19);

    const rows = await s.db.pool.query("SELECT id FROM run WHERE workspace_id = $1", [ws.id]);
    expect(rows.rows.map((r) => r.id)).toEqual([...runIds]);
    // Scale was asked once (a second create would have met its 409 for the batch name).
    expect(ws.requests("POST /v1/batches")).toBe(1);
  });

  it("replays the run while it is still running: the same run id, then the same envelope once it ends", async () => {
    const ws = await workspaceWithProject("while-running");
    ws.faults([{ route: "POST /v1/batches", latency_ms: 1_500 }]);
    const headers = { "idempotency-key": "key-running" };
    const first = await s.execute(ws.apiKey, "SCALE_AI_CREATE_BATCH", { ...batch("b_slow"), mode: "async" }, headers);
    expect(first.status).toBe(202);
    await expect.poll(async () => (await getRun(s, ws.apiKey, first.body.run_id)).status, { timeout: 10_000 }).toBe("running");

    const again = await s.execute(ws.apiKey, "SCALE_AI_CREATE_BATCH", { ...batch("b_slow"), mode: "async" }, headers);
    expect(again.status).toBe(202);
    expect(again.body).toEqual({ run_id: first.body.run_id, status: "running" });
    expect(again.headers["idempotency-replayed"]).toBe("true");

    // Sync mode is not part of the request's fingerprint: it waits for the same run.
    const waited = await s.execute(ws.apiKey, "SCALE_AI_CREATE_BATCH", batch("b_slow"), headers);
    expect(waited.status).toBe(200);
    expect(waited.body).toMatchObject({ run_id: first.body.run_id, successful: true, data: { name: "b_slow" } });
    expect(ws.requests("POST /v1/batches")).toBe(1);
    expect((await getRun(s, ws.apiKey, first.body.run_id)).attempts_count).toBe(1);
  });

  it("replays a failed run's envelope without calling the upstream again", async () => {
    const ws = await workspaceWithProject("failed");
    const headers = { "idempotency-key": "key-failed" };
    const input = { input: { name: "b1", project: "no_such_project" } };
    const first = await s.execute(ws.apiKey, "SCALE_AI_CREATE_BATCH", input, headers);
    expect(first.body).toMatchObject({ successful: false, error: { code: "UPSTREAM_NOT_FOUND" } });
    const again = await s.execute(ws.apiKey, "SCALE_AI_CREATE_BATCH", input, headers);
    expect(again.body).toEqual(first.body);
    expect(ws.requests("POST /v1/batches")).toBe(1);
  });

  it("with a different body answers 409 IDEMPOTENCY_KEY_REUSED, and nothing runs", async () => {
    const ws = await workspaceWithProject("reused");
    const headers = { "idempotency-key": "key-reused" };
    const first = await s.execute(ws.apiKey, "SCALE_AI_CREATE_BATCH", batch("b_a"), headers);
    expect(first.body.successful).toBe(true);
    const other = await s.execute(ws.apiKey, "SCALE_AI_CREATE_BATCH", batch("b_b"), headers);
    expect(other.status).toBe(409);
    expect(other.body.error.code).toBe("IDEMPOTENCY_KEY_REUSED");
    // Another action under the same key is a different request too.
    const otherAction = await s.execute(ws.apiKey, "SCALE_AI_LIST_PROJECTS", { input: {} }, headers);
    expect(otherAction.status).toBe(409);
    const rows = await s.db.pool.query("SELECT count(*)::int AS n FROM run WHERE workspace_id = $1", [ws.id]);
    expect(rows.rows[0].n).toBe(1);
    expect(ws.requests("POST /v1/batches")).toBe(1);
  });

  it("is scoped to the workspace: another workspace's same key makes its own run", async () => {
    const a = await workspaceWithProject("scope-a");
    const b = await workspaceWithProject("scope-b");
    const headers = { "idempotency-key": "key-shared" };
    const inA = await s.execute(a.apiKey, "SCALE_AI_CREATE_BATCH", batch("b_same"), headers);
    const inB = await s.execute(b.apiKey, "SCALE_AI_CREATE_BATCH", batch("b_same"), headers);
    expect(inA.body.successful).toBe(true);
    expect(inB.body.successful).toBe(true);
    expect(inB.body.run_id).not.toBe(inA.body.run_id);
    expect(inB.headers["idempotency-replayed"]).toBeUndefined();
    expect([a.requests("POST /v1/batches"), b.requests("POST /v1/batches")]).toEqual([1, 1]);
  });
});
