import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer } from "../../support/app";
import { createStackWithWorkspace, type TestStack } from "../../support/stack";
import { waitForEnd } from "../../support/execution";
import { connectedWorkspace, type ConnectedWorkspace } from "../../support/workspace";

let s: TestStack;
let ws: ConnectedWorkspace;
beforeAll(async () => ({ s, ws } = await createStackWithWorkspace({ workspace: { projects: ["kitten_labeling"] } })));
afterAll(() => s?.close());

describe("execute", () => {
  it("runs SCALE_AI_CREATE_BATCH sync and answers the envelope; the same name again fails with Scale's conflict", async () => {
    const first = await s.execute(ws.apiKey, "SCALE_AI_CREATE_BATCH", { input: { name: "batch_01", project: "kitten_labeling" } });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ run_id: expect.any(String), data: { name: "batch_01", project: "kitten_labeling" }, error: null, successful: true });

    const second = await s.execute(ws.apiKey, "SCALE_AI_CREATE_BATCH", { input: { name: "batch_01", project: "kitten_labeling" } });
    expect(second.status).toBe(200);
    expect(second.body).toMatchObject({ data: null, successful: false, error: { code: "UPSTREAM_CONFLICT", retryable: false, upstream_status: 409, message: expect.any(String) } });

    for (const runId of [first.body.run_id, second.body.run_id]) {
      const run = await s.app.inject({ method: "GET", url: `/v1/runs/${runId}`, headers: bearer(ws.apiKey) });
      expect(run.statusCode).toBe(200);
      expect(run.json().run).toMatchObject({ id: runId, action: "SCALE_AI_CREATE_BATCH", connection_id: ws.connectionId, attempts_count: 1, schema_version: 1 });
      expect(run.json().run.attempts).toHaveLength(1);
    }
  });

  it("validates the input before anything is stored", async () => {
    const res = await s.execute(ws.apiKey, "SCALE_AI_CREATE_BATCH", { input: { project: "p", extra: 1 } });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("VALIDATION_FAILED");
    expect(res.body.error.details).toEqual(expect.arrayContaining([expect.objectContaining({ path: "/input/name", keyword: "required" })]));
    const count = await s.db.pool.query("SELECT count(*)::int AS n FROM run WHERE workspace_id = $1 AND input->>'project' = 'p'", [ws.id]);
    expect(count.rows[0].n).toBe(0);
  });

  it("answers 404 for an unknown action and 409 CONNECTION_REQUIRED without a connection", async () => {
    expect((await s.execute(ws.apiKey, "SCALE_AI_NOPE", { input: {} })).status).toBe(404);
    const bare = await s.createWorkspace("no-connection");
    const res = await s.execute(bare.apiKey, "SCALE_AI_LIST_PROJECTS", { input: {} });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe("CONNECTION_REQUIRED");
  });

  it("answers 202 with the run id in async mode, and the run ends", async () => {
    const res = await s.execute(ws.apiKey, "SCALE_AI_LIST_PROJECTS", { input: {}, mode: "async" });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ run_id: expect.any(String), status: "queued" });
    expect((await waitForEnd(s, ws.apiKey, res.body.run_id)).status).toBe("succeeded");
  });

  it("never shows a run to another workspace", async () => {
    const other = await connectedWorkspace(s, "other");
    const res = await s.execute(ws.apiKey, "SCALE_AI_LIST_PROJECTS", { input: {} });
    const peek = await s.app.inject({ method: "GET", url: `/v1/runs/${res.body.run_id}`, headers: bearer(other.apiKey) });
    expect(peek.statusCode).toBe(404);
    const cancel = await s.app.inject({ method: "POST", url: `/v1/runs/${res.body.run_id}/cancel`, headers: bearer(other.apiKey) });
    expect(cancel.statusCode).toBe(404);
    const foreignConnection = await s.execute(other.apiKey, "SCALE_AI_LIST_PROJECTS", { input: {}, connection_id: ws.connectionId });
    expect(foreignConnection.status).toBe(404);
  });

  it("shows the attempt in flight while the run is running, and records it once when it ends", async () => {
    ws.faults([{ route: "GET /v1/teams", latency_ms: 1_500, times: 1 }]);
    const res = await s.execute(ws.apiKey, "SCALE_AI_GET_TEAMS", { input: {}, mode: "async" });
    const get = async () => (await s.app.inject({ method: "GET", url: `/v1/runs/${res.body.run_id}`, headers: bearer(ws.apiKey) })).json().run;
    await expect.poll(async () => (await get()).status, { interval: 20 }).toBe("running");
    const running = await get();
    expect(running.attempts).toEqual([expect.objectContaining({ number: 1, started_at: expect.any(String), finished_at: null, outcome: null })]);
    await expect.poll(async () => (await get()).status, { timeout: 10_000 }).toBe("succeeded");
    const ended = await get();
    expect(ended.attempts).toEqual([expect.objectContaining({ number: 1, started_at: running.attempts[0].started_at, finished_at: expect.any(String), outcome: "succeeded", upstream_status: 200 })]);
  });
});

