// Issue 14, item 4: a run that is not running says why and until when — `waiting: {reason, since, resume_at?,
// position?}` in GET /v1/runs/:id, in the run list and in the run's SSE events — for each reason, caused for real
// through the sandbox's fault injection.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer } from "../../support/app";
import { followRunEvents } from "../../support/run-events";
import { createTestStack, type TestStack } from "../../support/stack";
import { executeAsync, getRun, waitForEnd } from "../../support/execution";
import { connectedWorkspace } from "../../support/workspace";

const CAP = 2;

interface Waiting { reason: string; since: string; resume_at?: string; position?: number }

let s: TestStack;
let base: string;
beforeAll(async () => {
  s = await createTestStack({ listen: true, env: { NAGENT_WORKSPACE_CONCURRENCY: String(CAP) } });
  base = s.baseUrl!;
});
afterAll(async () => {
  await s?.close();
});

const waitingOf = async (apiKey: string, id: string) => (await getRun(s, apiKey, id) as unknown as { waiting: Waiting | null }).waiting;

/** Polls the run until it waits for `reason`, and returns its `waiting`. */
async function waitsFor(apiKey: string, id: string, reason: string, timeout = 10_000): Promise<Waiting> {
  let seen: Waiting | null = null;
  await expect.poll(async () => (seen = await waitingOf(apiKey, id))?.reason, { timeout, interval: 20 }).toBe(reason);
  return seen!;
}

const isIso = (value: string | undefined) => typeof value === "string" && !Number.isNaN(Date.parse(value));

/** A run's SSE events over real HTTP, collected as they come. */
const follow = (runId: string, apiKey: string) => followRunEvents<{ status: string; reason: string | null; waiting: Waiting | null }>(base, runId, apiKey);

describe("why a run waits", () => {
  it("workspace_cap: with position, in the run, the run list and the run's events; cleared once it runs", async () => {
    const ws = await connectedWorkspace(s, "capped");
    ws.faults([{ route: "GET /v1/batches", latency_ms: 1_500 }]);
    const ids: string[] = [];
    for (let i = 0; i < CAP + 2; i++) ids.push(await executeAsync(s, ws.apiKey, "SCALE_AI_LIST_BATCHES", { offset: i }));
    const last = ids.at(-1)!;
    const stream = await follow(last, ws.apiKey);

    const waiting = await waitsFor(ws.apiKey, last, "workspace_cap");
    expect(isIso(waiting.since)).toBe(true);
    expect(isIso(waiting.resume_at)).toBe(true);
    expect(Date.parse(waiting.resume_at!)).toBeGreaterThanOrEqual(Date.parse(waiting.since));
    expect(waiting.position).toBeGreaterThanOrEqual(1);
    expect(waiting.position).toBeLessThanOrEqual(CAP + 2);

    const list = await s.app.inject({ method: "GET", url: "/v1/runs?status=queued", headers: bearer(ws.apiKey) });
    expect(list.statusCode, list.body).toBe(200);
    const item = (list.json() as { runs: { id: string; waiting: Waiting | null }[] }).runs.find((r) => r.id === last);
    expect(item?.waiting?.reason).toBe("workspace_cap");

    await expect.poll(() => stream.events.some((e) => e.status === "queued" && e.waiting?.reason === "workspace_cap"), { timeout: 10_000 }).toBe(true);
    for (const id of ids) expect((await waitForEnd(s, ws.apiKey, id)).status).toBe("succeeded");
    expect(await waitingOf(ws.apiKey, last)).toBeNull();
    stream.close();
  }, 40_000);

  it("rate_limit: runs beyond the connection's pace wait for it", async () => {
    const ws = await connectedWorkspace(s, "paced");
    // A fixed, slow pace for this connection (equal bounds), learned by the pacer at its first call.
    const patch = await s.app.inject({ method: "PATCH", url: `/v1/connections/${ws.connectionId}`, headers: bearer(ws.apiKey), payload: { rate_limit: { min_rps: 0.5, max_rps: 0.5 } } });
    expect(patch.statusCode, patch.body).toBe(200);
    expect(patch.json().connection.rate_limit).toEqual({ min_rps: 0.5, max_rps: 0.5 });
    expect((await s.execute(ws.apiKey, "SCALE_AI_LIST_BATCHES", { input: {} })).body.successful).toBe(true);

    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push(await executeAsync(s, ws.apiKey, "SCALE_AI_LIST_BATCHES", { offset: i }));
    const waiting = await waitsFor(ws.apiKey, ids.at(-1)!, "rate_limit");
    expect(isIso(waiting.resume_at)).toBe(true);
    for (const id of ids) expect((await waitForEnd(s, ws.apiKey, id, 20_000)).status).toBe("succeeded");
  }, 40_000);

  it("retry_backoff for the run the upstream slowed down, connection_paused for the connection's other runs", async () => {
    const ws = await connectedWorkspace(s, "slowed");
    // The next request answers 429 with Retry-After (the rest of a 4 s window).
    ws.faults([{ route: "GET /v1/batches", rate_limit: { requests: 0, window_ms: 4_000, retry_after: true }, times: 1 }]);
    const first = await executeAsync(s, ws.apiKey, "SCALE_AI_LIST_BATCHES", {});
    const retry = await waitsFor(ws.apiKey, first, "retry_backoff");
    expect(Date.parse(retry.resume_at!) - Date.parse(retry.since)).toBeGreaterThan(500);

    const second = await executeAsync(s, ws.apiKey, "SCALE_AI_LIST_BATCHES", { offset: 1 });
    const paused = await waitsFor(ws.apiKey, second, "connection_paused");
    expect(isIso(paused.resume_at)).toBe(true);

    for (const id of [first, second]) expect((await waitForEnd(s, ws.apiKey, id, 20_000)).status).toBe("succeeded");
    expect(ws.requests("GET /v1/batches")).toBe(3);
  }, 40_000);

  it("a run that does not wait shows waiting: null", async () => {
    const ws = await connectedWorkspace(s, "idle");
    const res = await s.execute(ws.apiKey, "SCALE_AI_LIST_BATCHES", { input: {} });
    expect(res.body.successful).toBe(true);
    expect(await waitingOf(ws.apiKey, res.body.run_id)).toBeNull();
  });
});
