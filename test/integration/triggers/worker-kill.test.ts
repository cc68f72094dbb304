// Issue 12, item 6: a delivery worker SIGKILLed mid-send. The worker is a real child process (`npm run worker`'s
// entry point, production mode); the receiver holds its first request open, the worker is killed, and BullMQ's
// stalled-job check hands the delivery to the next worker, which sends it again with the same webhook-id.
import { randomBytes } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type ServerResponse } from "node:http";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Webhook } from "standardwebhooks";
import { startSandbox, type RunningSandbox } from "../../../apps/scale-sandbox/src/index";
import { bearer, createTestApp, type TestApp } from "../../support/app";
import { startWorkerProcess, stopProcesses, type RunningProcess } from "../../support/process";
import { connectedWorkspace } from "../../support/workspace";

const SCALE_KEY = `live_${randomBytes(8).toString("hex")}`;
const CALLBACK_KEY = `cbk_${randomBytes(12).toString("hex")}`;
/** Short BullMQ locks, so the dead worker's deliveries are taken over in seconds. */
const LOCK_MS = 2_000;

let t: TestApp;
let sandbox: RunningSandbox;
const workers: RunningProcess[] = [];
const received: { headers: IncomingHttpHeaders; raw: string }[] = [];
const held: ServerResponse[] = [];
let server: ReturnType<typeof createServer>;
let receiverUrl: string;

beforeAll(async () => {
  // The receiver never answers its first request (the worker is killed while it waits); later ones get 200.
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      received.push({ headers: req.headers, raw: Buffer.concat(chunks).toString("utf8") });
      if (received.length === 1) held.push(res);
      else res.writeHead(200).end("ok");
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  receiverUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  // The API only stores connections after a live check: a sandbox stands in for Scale.
  sandbox = await startSandbox({ keys: [SCALE_KEY] });
  t = await createTestApp({ env: { NAGENT_SCALE_BASE_URL: sandbox.url } });
});

afterAll(async () => {
  await stopProcesses(workers);
  for (const res of held) res.destroy();
  server?.closeAllConnections();
  server?.close();
  await t?.close();
  await sandbox?.close();
});

async function startWorker(): Promise<RunningProcess> {
  const worker = await startWorkerProcess(t, {
    NAGENT_WORKER_LOCK_MS: String(LOCK_MS),
    NAGENT_TRIGGER_DELIVERY_TIMEOUT_MS: "20000",
    NAGENT_UPSTREAM_TIMEOUT_MS: "1000",
  });
  workers.push(worker);
  return worker;
}

describe("a delivery worker killed with SIGKILL mid-send", () => {
  it("has the delivery sent again by another worker, with the same webhook-id, and recorded once", async () => {
    const ws = await connectedWorkspace({ ...t, sandbox }, "kill", { scaleKey: SCALE_KEY, callbackAuthKey: CALLBACK_KEY });
    const h = bearer(ws.apiKey);
    const sub = await t.app.inject({ method: "POST", url: "/v1/trigger-subscriptions", headers: h, payload: { trigger: "SCALE_AI_TASK_COMPLETED", target: { url: receiverUrl } } });
    expect(sub.statusCode, sub.body).toBe(201);
    const secret = sub.json().secret as string;

    const first = await startWorker();
    const taskId = randomBytes(12).toString("hex");
    const cb = await t.app.inject({
      method: "POST", url: new URL(ws.connection.inbound_url!).pathname, headers: { "scale-callback-auth": CALLBACK_KEY },
      payload: { task_id: taskId, task: { task_id: taskId, status: "completed", completed_at: new Date().toISOString(), type: "textcollection" }, response: {} },
    });
    expect(cb.statusCode, cb.body).toBe(200);
    // The worker is mid-send: the receiver has the request and holds its answer.
    await expect.poll(() => received.length, { timeout: 15_000 }).toBe(1);
    first.child.kill("SIGKILL");
    expect(await first.exited).toBe("SIGKILL");
    await startWorker();

    await expect.poll(() => received.length, { timeout: 30_000, interval: 100 }).toBe(2);
    expect(received[1]!.headers["webhook-id"]).toBe(received[0]!.headers["webhook-id"]);
    expect(received[1]!.raw).toBe(received[0]!.raw);
    const verified = new Webhook(secret).verify(received[1]!.raw, {
      "webhook-id": String(received[1]!.headers["webhook-id"]),
      "webhook-timestamp": String(received[1]!.headers["webhook-timestamp"]),
      "webhook-signature": String(received[1]!.headers["webhook-signature"]),
    }) as { data: { task_id: string } };
    expect(verified.data.task_id).toBe(taskId);

    const events = (await t.app.inject({ method: "GET", url: "/v1/events", headers: h })).json().events as { id: string }[];
    expect(events).toHaveLength(1);
    await expect.poll(async () => {
      const e = (await t.app.inject({ method: "GET", url: `/v1/events/${events[0]!.id}`, headers: h })).json();
      return e.event.deliveries.map((d: any) => [d.id, d.status, d.attempts_count, d.attempts.map((a: any) => a.outcome)]);
    }, { timeout: 10_000 }).toEqual([[received[0]!.headers["webhook-id"], "succeeded", 1, ["succeeded"]]]);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(received).toHaveLength(2);
  }, 120_000);
});
