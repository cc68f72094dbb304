// Issue 6, item 9: two workspaces, one flooding the queue against a slow upstream; the other's run still finishes
// promptly. And the per-workspace concurrency cap holds: runs beyond it wait in the queue.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer } from "../../support/app";
import { createTestStack, type TestStack } from "../../support/stack";
import { getRun, waitForEnd } from "../../support/execution";
import { connectedWorkspace } from "../../support/workspace";

const CAP = 4;
const FLOOD = 300;

let s: TestStack;
beforeAll(async () => {
  s = await createTestStack({ env: { NAGENT_WORKSPACE_CONCURRENCY: String(CAP), NAGENT_UPSTREAM_TIMEOUT_MS: "10000" } });
});
afterAll(async () => {
  // The flood's backlog is not waited for: stop the workers, then drop what is left in this test's queue.
  await s?.workers.close();
  await s?.infra.producer.queue.obliterate({ force: true });
  await s?.close();
});

const counts = async (workspaceId: string) => {
  const { rows } = await s.db.pool.query<{ status: string; n: number }>("SELECT status, count(*)::int AS n FROM run WHERE workspace_id = $1 GROUP BY status", [workspaceId]);
  return Object.fromEntries(rows.map((r) => [r.status, r.n])) as Record<string, number>;
};

describe("fairness between workspaces", () => {
  it("cancels a run queued behind the workspace cap", async () => {
    const ws = await connectedWorkspace(s, "capped");
    // Slow enough that the first CAP runs are still running when the last two arrive, even on a loaded CI machine.
    ws.faults([{ route: "GET /v1/batches", latency_ms: 4_000 }]);
    const ids: string[] = [];
    const enqueue = async (i: number) => ids.push((await s.execute(ws.apiKey, "SCALE_AI_LIST_BATCHES", { input: { offset: i }, mode: "async" })).body.run_id);
    for (let i = 0; i < CAP; i++) await enqueue(i);
    await expect.poll(async () => (await counts(ws.id))["running"] ?? 0, { timeout: 10_000 }).toBe(CAP);
    for (let i = CAP; i < CAP + 2; i++) await enqueue(i);
    const last = ids.at(-1)!;
    await expect.poll(async () => (await getRun(s, ws.apiKey, last)).status_reason, { timeout: 10_000 }).toBe("waiting for a slot of the workspace's concurrency cap");
    const cancel = await s.app.inject({ method: "POST", url: `/v1/runs/${last}/cancel`, headers: bearer(ws.apiKey) });
    expect(cancel.statusCode, cancel.body).toBe(200);
    expect(cancel.json().run.status).toBe("canceled");
    for (const id of ids.slice(0, -1)) {
      expect((await waitForEnd(s, ws.apiKey, id)).status).toBe("succeeded");
    }
    expect((await getRun(s, ws.apiKey, last)).status).toBe("canceled");
  }, 45_000);

  it("a workspace flooding the queue does not hold up another workspace's run, and never runs more than its cap at once", async () => {
    const flooder = await connectedWorkspace(s, "flooder");
    const quiet = await connectedWorkspace(s, "quiet");
    flooder.faults([{ route: "GET /v1/batches", latency_ms: 1_000 }]);

    // The flood: FLOOD async runs, enqueued as fast as the API takes them.
    const flood: Promise<unknown>[] = [];
    for (let i = 0; i < FLOOD; i++) {
      flood.push(s.execute(flooder.apiKey, "SCALE_AI_LIST_BATCHES", { input: { offset: i }, mode: "async" }).then((r) => expect(r.status).toBe(202)));
    }
    await Promise.all(flood);

    // Sample the flooder's running runs while the quiet workspace's run goes through: never above the cap.
    let sampling = true;
    let maxRunning = 0;
    let sawCapReason = false;
    const sampler = (async () => {
      while (sampling) {
        const c = await counts(flooder.id);
        maxRunning = Math.max(maxRunning, c["running"] ?? 0);
        const waiting = await s.db.pool.query("SELECT 1 FROM run WHERE workspace_id = $1 AND status_reason = $2 LIMIT 1", [flooder.id, "waiting for a slot of the workspace's concurrency cap"]);
        sawCapReason ||= (waiting.rowCount ?? 0) > 0;
        await new Promise((r) => setTimeout(r, 25));
      }
    })();

    const quietRun = await s.execute(quiet.apiKey, "SCALE_AI_LIST_BATCHES", { input: {} });
    const flooderAtThatTime = await counts(flooder.id);
    // The quiet run may end before the sampler's first round (a sync execute runs inline when a slot is free): the
    // sampling goes on until a flooder run was seen waiting for the cap.
    await expect.poll(() => sawCapReason, { timeout: 10_000 }).toBe(true);
    sampling = false;
    await sampler;

    expect(quietRun.status).toBe(200);
    expect(quietRun.body.successful).toBe(true);
    // The quiet run ended while the flood was mostly still pending: it did not wait its turn behind it.
    const flooderDone = flooderAtThatTime["succeeded"] ?? 0;
    expect(flooderDone).toBeLessThan(FLOOD / 2);
    const run = await getRun(s, quiet.apiKey, quietRun.body.run_id);
    expect(run.attempts_count).toBe(1);

    expect(maxRunning).toBeLessThanOrEqual(CAP);
    expect(maxRunning).toBeGreaterThan(0);
    expect(sawCapReason).toBe(true);
  }, 60_000);
});
