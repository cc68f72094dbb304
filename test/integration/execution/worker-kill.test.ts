// Issue 6, item 9: a worker process killed with SIGKILL in the middle of upstream calls leaves no run stuck or
// duplicated. The workers are real child processes (`node --import tsx apps/worker/src/main.ts`, production mode);
// BullMQ's stalled-job check hands the dead worker's runs to the next worker, whose claim marks the lost attempt.
// A batch job (several runs in one job) is handed over whole: its runs are held by the batch, whose next worker takes them over.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSandbox, type RunningSandbox } from "../../../apps/scale-sandbox/src/index";
import { RUNS_QUEUE } from "@nagent/queue";
import type { RunEvent } from "@nagent/runs";
import { bearer, createTestApp, type TestApp } from "../../support/app";
import { startWorkerProcess, stopProcesses, type RunningProcess } from "../../support/process";
import { enqueueTogether, waitForEnd } from "../../support/execution";
import { startLossyProxy } from "../../support/lossy-proxy";
import { connectedWorkspace, type ConnectedWorkspace } from "../../support/workspace";

const SCALE_KEY = "test_worker_kill";
/** Short BullMQ locks, so the dead worker's jobs are taken over in seconds rather than the production 30 s. */
const LOCK_MS = 2_000;

let sandbox: RunningSandbox;
let proxy: Awaited<ReturnType<typeof startLossyProxy>>;
let t: TestApp;
let ws: ConnectedWorkspace;
const workers: RunningProcess[] = [];

beforeAll(async () => {
  sandbox = await startSandbox({ keys: [SCALE_KEY] });
  proxy = await startLossyProxy(sandbox.url);
  t = await createTestApp({ env: { NAGENT_SCALE_BASE_URL: sandbox.url } });
  // The connection goes through the proxy, which can hold the upstream's answers while the worker is killed.
  ws = await connectedWorkspace({ ...t, sandbox }, "kill", { scaleKey: SCALE_KEY, baseUrl: proxy.url, projects: ["kitten_labeling"] });
});

afterAll(async () => {
  await stopProcesses(workers);
  await t?.close();
  await proxy?.close();
  await sandbox?.close();
});

/** Starts `npm run worker`'s entry point as its own process, on this test's database, Redis prefix and keys. */
async function startWorker(): Promise<RunningProcess> {
  const worker = await startWorkerProcess(t, {
    NAGENT_UPSTREAM_TIMEOUT_MS: "20000",
    NAGENT_WORKER_LOCK_MS: String(LOCK_MS),
    NAGENT_WORKER_CONCURRENCY: "8",
  });
  workers.push(worker);
  return worker;
}

async function run(id: string) {
  const res = await t.app.inject({ method: "GET", url: `/v1/runs/${id}`, headers: bearer(ws.apiKey) });
  return res.json().run as { status: string; attempts: { number: number; outcome: string | null; error_message: string | null }[]; output: { successful: boolean; data: any } };
}

describe("a worker killed with SIGKILL mid-run", () => {
  it("leaves no run stuck or duplicated: another worker takes the runs over and each ends exactly once", async () => {
    const terminal = new Map<string, number>();
    const unsubscribe = t.infra.events.onWorkspace(ws.id, (event: RunEvent) => {
      if (["succeeded", "failed", "canceled"].includes(event.status)) terminal.set(event.id, (terminal.get(event.id) ?? 0) + 1);
    });

    const first = await startWorker();
    // Scale serves these requests (the task is created) but the answers are held until the worker is dead.
    proxy.rule({ route: "POST /v1/task/imageannotation", delayMs: 60_000 });
    proxy.rule({ route: "GET /v1/batches", delayMs: 60_000, times: 3 });

    const execute = async (slug: string, input: Record<string, unknown>) => {
      const res = await t.app.inject({ method: "POST", url: `/v1/actions/${slug}/execute`, headers: bearer(ws.apiKey), payload: { input, mode: "async" } });
      expect(res.statusCode, res.body).toBe(202);
      return res.json().run_id as string;
    };
    const createId = await execute("SCALE_AI_CREATE_IMAGE_ANNOTATION_TASK", {
      project: "kitten_labeling", unique_id: "kitten_kill_1", attachment: "https://example.com/images/kitten_001.jpg",
      geometries: { box: { objects_to_annotate: ["kitten"] } },
    });
    const listIds = [];
    for (let i = 0; i < 3; i++) listIds.push(await execute("SCALE_AI_LIST_BATCHES", { project: "kitten_labeling", offset: i }));
    const ids = [createId, ...listIds];

    // Every call reached Scale and is waiting for its answer: the worker is mid-call.
    await expect.poll(() => proxy.disturbed.length, { timeout: 15_000 }).toBe(4);
    for (const id of ids) expect((await run(id)).status).toBe("running");

    first.child.kill("SIGKILL");
    expect(await first.exited).toBe("SIGKILL");
    await startWorker();

    for (const id of ids) expect((await waitForEnd(t, ws.apiKey, id, 30_000)).status).toBe("succeeded");
    for (const id of ids) {
      const r = await run(id);
      expect(r.attempts.map((a) => [a.number, a.outcome])).toEqual([[1, "lost"], [2, "succeeded"]]);
      expect(r.attempts[0]!.error_message).toBe("The process running this attempt (a worker, or the API for a sync execute) stopped during it.");
    }

    // One task in Scale: the retry met the 409 of the reused unique_id and found the first attempt's task.
    const tasks = await ws.scale("GET", "/v1/tasks?project=kitten_labeling");
    expect(tasks.body.docs).toHaveLength(1);
    expect((await run(createId)).output.data.task_id).toBe(tasks.body.docs[0].task_id);
    const routes = sandbox.control.requestCounts(SCALE_KEY).routes;
    expect([routes["POST /v1/task/:type"], routes["GET /v1/tasks"]]).toEqual([2, 2]); // the retry's lookup, and ours above

    // Each run ended exactly once, and no job is left behind in the queue.
    await expect.poll(() => ids.map((id) => terminal.get(id) ?? 0), { timeout: 10_000 }).toEqual([1, 1, 1, 1]);
    unsubscribe();
    const counts = await t.infra.producer.queue.getJobCounts("active", "wait", "delayed", "prioritized", "failed");
    expect(counts).toEqual({ active: 0, wait: 0, delayed: 0, prioritized: 0, failed: 0 });
    const stuck = await t.db.pool.query("SELECT count(*)::int AS n FROM run WHERE status IN ('queued', 'running')");
    expect(stuck.rows[0].n).toBe(0);
  }, 120_000);

  it("a batch job's runs are taken over the same way: the next worker gets the stalled batch, and each run ends once", async () => {
    await stopProcesses(workers.splice(0));
    const first = await startWorker();
    const disturbedBefore = proxy.disturbed.length;
    proxy.rule({ route: "GET /v1/batches", delayMs: 60_000, times: 4 });

    // Queued runs written as the API writes them, enqueued together: the first alone, the other three in one batch.
    const ids = await enqueueTogether(t, ws, "SCALE_AI_LIST_BATCHES", [10, 11, 12, 13].map((offset) => ({ project: "kitten_labeling", offset })));
    const producer = t.infra.producer;
    const batchId = `batch-${ids[1]}`;
    expect((await producer.queue.getJob(batchId))?.data).toMatchObject({ runs: ids.slice(1).map((runId) => ({ runId })) });

    await expect.poll(() => proxy.disturbed.length - disturbedBefore, { timeout: 15_000 }).toBe(4);
    first.child.kill("SIGKILL");
    expect(await first.exited).toBe("SIGKILL");
    await startWorker();

    for (const id of ids) expect((await waitForEnd(t, ws.apiKey, id, 30_000)).status).toBe("succeeded");
    for (const id of ids) expect((await run(id)).attempts.map((a) => [a.number, a.outcome])).toEqual([[1, "lost"], [2, "succeeded"]]);
    const { rows } = await t.db.pool.query<{ id: string; claimed_by: string }>("SELECT id, claimed_by FROM run WHERE id = ANY($1)", [ids]);
    const holder = new Map(rows.map((r) => [r.id, r.claimed_by]));
    // Held by the batch, or by the run's own job when the connection's pace made it wait and the batch handed it over.
    expect(holder.get(ids[0]!)).toBe(ids[0]);
    for (const id of ids.slice(1)) expect([batchId, id]).toContain(holder.get(id));
    const counts = await producer.queue.getJobCounts("active", "wait", "delayed", "prioritized", "failed");
    expect(counts).toEqual({ active: 0, wait: 0, delayed: 0, prioritized: 0, failed: 0 });
    expect(await t.infra.redis.hlen(`${t.config.queuePrefix}:${RUNS_QUEUE}:batched`)).toBe(0);
  }, 120_000);
});
