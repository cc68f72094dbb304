import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { Agent, request } from "undici";
import { afterAll, beforeAll, expect, it } from "vitest";
import { freePort } from "../../test/support/net";
import { createTestStack, type TestStack } from "../../test/support/stack";
import { fmtMs, percentile } from "../lib/stats";

/** Steady phase: callbacks per second and how long; flood phase: events and concurrency. */
const RATE = Number(process.env["BENCH_TRIGGERS_RATE"] ?? 50);
const STEADY_S = Number(process.env["BENCH_TRIGGERS_SECONDS"] ?? 8);
const FLOOD = Number(process.env["BENCH_TRIGGERS_FLOOD"] ?? 1500);
const CONCURRENCY = 32;
const CALLBACK_KEY = `cbk_${randomBytes(12).toString("hex")}`;

let s: TestStack;
let inbound: string;
const arrivals = new Map<string, number>();
let receiverUrl: string;
let closeReceiver: () => Promise<void>;
const agent = new Agent({ connections: 64 });

beforeAll(async () => {
  const port = await freePort();
  s = await createTestStack({ env: { NAGENT_PUBLIC_URL: `http://127.0.0.1:${port}`, LOG_LEVEL: "warn" } });
  await s.app.listen({ port, host: "127.0.0.1" });
  // The subscriber: notes when each task's delivery (or bare POST) arrived; answers 204.
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const at = performance.now();
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { data: { task_id: string } };
      arrivals.set(body.data.task_id, at);
      res.writeHead(204).end();
    });
  });
  server.keepAliveTimeout = 10_000;
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  receiverUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  closeReceiver = async () => {
    server.closeAllConnections();
    server.close();
  };
  const ws = await s.createWorkspace("bench");
  const headers = { authorization: `Bearer ${ws.apiKey}` };
  const conn = await s.app.inject({ method: "POST", url: "/v1/connections", headers, payload: { integration: "scale_ai", credentials: { api_key: s.liveKey, callback_auth_key: CALLBACK_KEY } } });
  expect(conn.statusCode, conn.body).toBe(201);
  inbound = conn.json().connection.inbound_url;
  const sub = await s.app.inject({ method: "POST", url: "/v1/trigger-subscriptions", headers, payload: { trigger: "SCALE_AI_TASK_COMPLETED", target: { url: receiverUrl } } });
  expect(sub.statusCode, sub.body).toBe(201);
});

afterAll(async () => {
  await closeReceiver?.();
  await s?.close();
  await agent.close();
});

function callbackBody(taskId: string): string {
  const now = new Date().toISOString();
  return JSON.stringify({
    task_id: taskId,
    task: { task_id: taskId, type: "textcollection", status: "completed", created_at: now, updated_at: now, completed_at: now, params: { attachments: [{ type: "text", content: "Is this a cat?" }] }, metadata: {} },
    response: { answer: "yes" },
  });
}

/** One callback to the inbound URL; resolves when it was acknowledged. */
async function sendCallback(taskId: string): Promise<void> {
  const res = await request(inbound, { method: "POST", dispatcher: agent, headers: { "content-type": "application/json", "scale-callback-auth": CALLBACK_KEY }, body: callbackBody(taskId) });
  await res.body.dump();
  if (res.statusCode !== 200) throw new Error(`callback answered ${res.statusCode}`);
}

/** The baseline: the same body POSTed straight to the receiver (what the delivery's last hop costs alone). */
async function sendBare(taskId: string): Promise<void> {
  const res = await request(receiverUrl, { method: "POST", dispatcher: agent, headers: { "content-type": "application/json" }, body: JSON.stringify({ type: "X", data: { task_id: taskId } }) });
  await res.body.dump();
}

async function waitArrived(ids: readonly string[], timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (ids.some((id) => !arrivals.has(id))) {
    if (Date.now() > until) throw new Error(`${ids.filter((id) => !arrivals.has(id)).length} deliveries missing`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Sends at a steady rate (one every 1000/RATE ms, not waiting for the previous), alternating callback and bare POST. */
const acks: number[] = [];
async function steady(): Promise<{ trigger: number[]; bare: number[] }> {
  const started = new Map<string, number>();
  const kinds = new Map<string, "trigger" | "bare">();
  const pending: Promise<void>[] = [];
  const total = RATE * STEADY_S;
  const t0 = performance.now();
  for (let i = 0; i < total; i++) {
    const due = t0 + (i * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const id = randomBytes(12).toString("hex");
    const kind = i % 2 === 0 ? "trigger" : "bare";
    kinds.set(id, kind);
    started.set(id, performance.now());
    pending.push(kind === "trigger" ? sendCallback(id).then(() => void acks.push(performance.now() - started.get(id)!)) : sendBare(id));
  }
  await Promise.all(pending);
  await waitArrived([...started.keys()], 30_000);
  const out = { trigger: [] as number[], bare: [] as number[] };
  for (const [id, at] of started) out[kinds.get(id)!].push(arrivals.get(id)! - at);
  return out;
}

/** Sends `count` as fast as `CONCURRENCY` senders go; events/s from the first send to the last arrival. */
async function flood(count: number, send: (id: string) => Promise<void>): Promise<number> {
  const ids = Array.from({ length: count }, () => randomBytes(12).toString("hex"));
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < ids.length) await send(ids[next++]!);
  }));
  await waitArrived(ids, 120_000);
  const last = Math.max(...ids.map((id) => arrivals.get(id)!));
  return count / ((last - t0) / 1000);
}

it("callback accepted → delivery received", async () => {
  // Warm-up: JIT, pools, prepared statements.
  for (let i = 0; i < 30; i++) {
    const id = randomBytes(12).toString("hex");
    await sendCallback(id);
    await sendBare(`${id}b`);
  }
  const { trigger, bare } = await steady();
  const floodBare = await flood(FLOOD, sendBare);
  const floodTrigger = await flood(FLOOD, sendCallback);
  const row = (name: string, xs: number[]) => `  ${name.padEnd(36)} p50 ${fmtMs(percentile(xs, 50)).padStart(9)}   p99 ${fmtMs(percentile(xs, 99)).padStart(9)}   (n=${xs.length})`;
  console.log(`\ntriggers benchmark (2 cores shared by the API, the worker, PostgreSQL, Redis and this load generator)`);
  console.log(`steady ${RATE}/s for ${STEADY_S} s, callbacks and bare POSTs interleaved:`);
  console.log(row("callback → delivery received", trigger));
  console.log(row("bare POST → received (baseline)", bare));
  console.log(row("(callback → acknowledged, 200)", acks));
  console.log(`  ratio p50 ${(percentile(trigger, 50) / percentile(bare, 50)).toFixed(1)}×, p99 ${(percentile(trigger, 99) / percentile(bare, 99)).toFixed(1)}×`);
  console.log(`flood of ${FLOOD} with ${CONCURRENCY} concurrent senders:`);
  console.log(`  sustained events/s (callback → delivered)   ${floodTrigger.toFixed(0)}`);
  console.log(`  bare POSTs/s (baseline)                     ${floodBare.toFixed(0)}`);
  console.log(`  ratio ${(floodTrigger / floodBare).toFixed(3)}`);
  expect(trigger.length).toBeGreaterThan(0);
});
