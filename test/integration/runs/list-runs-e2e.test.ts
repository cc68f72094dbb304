// GET /v1/runs over real executions (API → queue → worker → Scale sandbox): the issue's acceptance query, the
// summaries against GET /v1/runs/:id, and paging while the workspace keeps executing.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer } from "../../support/app";
import { createStackWithWorkspace, type TestStack } from "../../support/stack";
import { connectedWorkspace, type ConnectedWorkspace } from "../../support/workspace";

let s: TestStack;
let ws: ConnectedWorkspace;
let other: ConnectedWorkspace;
beforeAll(async () => {
  ({ s, ws } = await createStackWithWorkspace({ workspace: { name: "e2e", projects: ["kitten_labeling"] } }));
  other = await connectedWorkspace(s, "e2e-other", { scaleKey: ws.scaleKey }); // one sandbox world: batch names conflict across both
});
afterAll(async () => {
  await s?.close();
});

async function list(apiKey: string, query: string) {
  const res = await s.app.inject({ method: "GET", url: `/v1/runs?${query}`, headers: bearer(apiKey) });
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as { runs: { id: string; action: string; status: string; successful: boolean | null; error_code: string | null; connection_id: string }[]; next_cursor: string | null };
}

/** A sync execution of SCALE_AI_CREATE_BATCH; a name used before fails with Scale's 409 (UPSTREAM_CONFLICT). */
async function createBatch(apiKey: string, name: string): Promise<{ runId: string; successful: boolean }> {
  const res = await s.execute(apiKey, "SCALE_AI_CREATE_BATCH", { input: { name, project: "kitten_labeling" } });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return { runId: res.body.run_id, successful: res.body.successful };
}

describe("GET /v1/runs over real runs", () => {
  it("?status=failed&action=SCALE_AI_CREATE_BATCH answers only this workspace's failed create-batch runs, newest first", async () => {
    const ok = await createBatch(ws.apiKey, "e2e_batch");
    const failed1 = await createBatch(ws.apiKey, "e2e_batch");
    const listed = await s.execute(ws.apiKey, "SCALE_AI_LIST_PROJECTS", { input: {} });
    const failed2 = await createBatch(ws.apiKey, "e2e_batch");
    // The other workspace has its own failed create-batch run (the sandbox key is shared, so the name conflicts too).
    const foreign = await createBatch(other.apiKey, "e2e_batch");
    expect([ok.successful, failed1.successful, listed.body.successful, failed2.successful, foreign.successful]).toEqual([true, false, true, false, false]);

    const page = await list(ws.apiKey, "status=failed&action=SCALE_AI_CREATE_BATCH");
    expect(page.runs.map((r) => r.id)).toEqual([failed2.runId, failed1.runId]);
    expect(page.next_cursor).toBeNull();
    for (const run of page.runs) {
      expect(run).toMatchObject({ action: "SCALE_AI_CREATE_BATCH", status: "failed", successful: false, error_code: "UPSTREAM_CONFLICT", connection_id: ws.connectionId });
    }
    expect((await list(other.apiKey, "status=failed&action=SCALE_AI_CREATE_BATCH")).runs.map((r) => r.id)).toEqual([foreign.runId]);
  });

  it("summaries agree with GET /v1/runs/:id on status, successful and error code", async () => {
    const page = await list(ws.apiKey, "limit=200");
    expect(page.runs.length).toBeGreaterThanOrEqual(4);
    for (const summary of page.runs) {
      const detail = (await s.app.inject({ method: "GET", url: `/v1/runs/${summary.id}`, headers: bearer(ws.apiKey) })).json().run;
      expect(summary.status).toBe(detail.status);
      expect(summary.successful).toBe(detail.output?.successful ?? null);
      expect(summary.error_code).toBe(detail.output?.error?.code ?? null);
    }
  });

  it("pages through failed create-batch runs exactly once while new ones are executed between pages", async () => {
    for (let i = 0; i < 4; i++) await createBatch(ws.apiKey, "e2e_batch");
    const before = (await list(ws.apiKey, "status=failed&action=SCALE_AI_CREATE_BATCH&limit=200")).runs.map((r) => r.id);
    expect(before.length).toBe(6);

    const seen: string[] = [];
    const added: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await list(ws.apiKey, `status=failed&action=SCALE_AI_CREATE_BATCH&limit=2${cursor ? `&cursor=${cursor}` : ""}`);
      seen.push(...page.runs.map((r) => r.id));
      cursor = page.next_cursor;
      if (cursor) added.push((await createBatch(ws.apiKey, "e2e_batch")).runId);
    } while (cursor);
    expect(added.length).toBe(2);
    expect(seen).toEqual(before);
    const after = (await list(ws.apiKey, "status=failed&action=SCALE_AI_CREATE_BATCH&limit=200")).runs.map((r) => r.id);
    expect(after).toEqual([...added.reverse(), ...before]);
  });
});
