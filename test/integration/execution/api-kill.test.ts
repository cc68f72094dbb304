// Issue 17: a sync execute runs its first attempt in the API process. An API process killed with SIGKILL during that
// attempt leaves its run `running` with no job; the stuck-run sweeper queues it, and the worker's claim records the
// attempt as lost and runs the next one, which finds the task the lost attempt created (no duplicate in Scale).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { join } from "node:path";
import { createTestStack, type TestStack } from "../../support/stack";
import { baseEnv, startProcess, stopProcesses, type RunningProcess } from "../../support/process";
import { freePort } from "../../support/net";
import { getRun, waitForEnd } from "../../support/execution";
import { startLossyProxy } from "../../support/lossy-proxy";
import { connectedWorkspace, type ConnectedWorkspace } from "../../support/workspace";

const SERVER = join(process.cwd(), "apps/api/src/server.ts");

let s: TestStack;
let ws: ConnectedWorkspace;
let proxy: Awaited<ReturnType<typeof startLossyProxy>>;
const processes: RunningProcess[] = [];

beforeAll(async () => {
  // The in-process worker sweeps runs left `running` for 2 s (production: three worker lock durations).
  s = await createTestStack({ worker: { sweep: { runningForMs: 2_000, everyMs: 500 } } });
  // The connection goes through the proxy, which holds Scale's answer while the API process is killed.
  proxy = await startLossyProxy(s.sandbox.url);
  ws = await connectedWorkspace(s, "api-kill", { baseUrl: proxy.url, projects: ["kitten_labeling"] });
});

afterAll(async () => {
  await stopProcesses(processes);
  await s?.close();
  await proxy?.close();
});

describe("an API process killed during a sync execute's inline attempt", () => {
  it("leaves its run to the sweeper and the worker: the attempt recorded lost, the run ended once, one task in Scale", async () => {
    const port = await freePort();
    const c = s.config;
    // `npm run api`'s entry point in production mode, on the stack's database, Redis prefix and keys.
    const api = startProcess(SERVER, baseEnv({
      NODE_ENV: "production", LOG_LEVEL: "info", PORT: String(port), DATABASE_URL: s.db.url, REDIS_URL: c.redisUrl,
      NAGENT_QUEUE_PREFIX: c.queuePrefix, NAGENT_ADMIN_TOKEN: c.adminToken,
      NAGENT_MASTER_KEYS: c.masterKeys.map((k) => `${k.id}:${k.key.toString("base64")}`).join(","),
      NAGENT_ALLOW_PRIVATE_EGRESS: "true", NAGENT_UPSTREAM_TIMEOUT_MS: "20000", NAGENT_SYNC_TIMEOUT_MS: "30000",
    }));
    processes.push(api);
    await expect.poll(async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => null))?.status, { timeout: 60_000, interval: 200 }).toBe(200);

    // Scale creates the task, but its answer is held until the API process is dead.
    proxy.rule({ route: "POST /v1/task/imageannotation", delayMs: 60_000 });
    const call = fetch(`http://127.0.0.1:${port}/v1/actions/SCALE_AI_CREATE_IMAGE_ANNOTATION_TASK/execute`, {
      method: "POST", headers: { authorization: `Bearer ${ws.apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({ input: { project: "kitten_labeling", unique_id: "kitten_api_kill", attachment: "https://example.com/images/kitten_001.jpg", geometries: { box: { objects_to_annotate: ["kitten"] } } } }),
    }).then(() => "answered", () => "connection lost");
    await expect.poll(() => proxy.disturbed.length, { timeout: 15_000 }).toBe(1);
    const { rows } = await s.db.pool.query<{ id: string; status: string; attempts_count: number }>(
      "SELECT id, status, attempts_count FROM run WHERE workspace_id = $1 AND action = 'SCALE_AI_CREATE_IMAGE_ANNOTATION_TASK'", [ws.id]);
    expect(rows.map((r) => [r.status, r.attempts_count])).toEqual([["running", 1]]);
    expect(await s.infra.producer.queue.getJob(rows[0]!.id)).toBeUndefined(); // the API held it: no job

    api.child.kill("SIGKILL");
    expect(await api.exited).toBe("SIGKILL");
    expect(await call).toBe("connection lost");

    const ended = await waitForEnd(s, ws.apiKey, rows[0]!.id, 30_000);
    expect(ended.status).toBe("succeeded");
    const run = await getRun(s, ws.apiKey, rows[0]!.id);
    expect(run.attempts.map((a) => [a.number, a.outcome])).toEqual([[1, "lost"], [2, "succeeded"]]);
    expect(run.attempts[0]!.error_message).toBe("The process running this attempt (a worker, or the API for a sync execute) stopped during it.");
    // The retry met the 409 of the reused unique_id and found the first attempt's task.
    const tasks = await ws.scale("GET", "/v1/tasks?project=kitten_labeling");
    expect(tasks.body.docs).toHaveLength(1);
    expect(run.output?.data.task_id).toBe(tasks.body.docs[0].task_id);
  }, 120_000);
});
