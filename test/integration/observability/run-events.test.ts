import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AddressInfo } from "node:net";
import { buildApp } from "../../../apps/api/src/app";
import { bearer } from "../../support/app";
import { followRunEvents } from "../../support/run-events";
import { createStackWithWorkspace, type TestStack } from "../../support/stack";
import type { ConnectedWorkspace } from "../../support/workspace";

interface RunUpdate {
  id: string;
  status: string;
  attempt: number;
  reason: string | null;
  at: string;
  output?: { data: unknown; error: { code: string } | null; successful: boolean } | null;
}

const MAX_STREAMS = 2;
let s: TestStack;
let ws: ConnectedWorkspace;
let base: string;
beforeAll(async () => {
  ({ s, ws } = await createStackWithWorkspace({ listen: true, env: { NAGENT_EVENT_STREAMS_MAX: String(MAX_STREAMS) }, workspace: { projects: ["kitten_labeling"] } }));
  base = s.baseUrl!;
});
afterAll(() => s?.close());

/** The run's event stream over real HTTP (at `origin`: this app, or a second one). */
const follow = (runId: string, apiKey = ws.apiKey, headers: Record<string, string> = {}, origin = base) => followRunEvents<RunUpdate>(origin, runId, apiKey, headers);

/** Runs stay queued while the runs queue is paused (in Redis: no worker takes a job). */
const pauseQueue = () => s.infra.producer.queue.pause();
const resumeQueue = () => s.infra.producer.queue.resume();

async function queuedRun(input: Record<string, unknown> = {}, slug = "SCALE_AI_LIST_PROJECTS"): Promise<string> {
  const res = await s.execute(ws.apiKey, slug, { input, mode: "async" });
  expect(res.status).toBe(202);
  return res.body.run_id as string;
}

const openStreams = () => s.deps.services.runEvents.openCount();

describe("GET /v1/runs/:id/events", () => {
  it("streams a run from queued to succeeded, then ends", async () => {
    await pauseQueue();
    let stream: Awaited<ReturnType<typeof follow>>;
    try {
      const runId = await queuedRun();
      stream = await follow(runId);
      expect(stream.res.statusCode).toBe(200);
      expect(stream.res.headers["content-type"]).toBe("text/event-stream; charset=utf-8");
      expect(stream.res.headers["cache-control"]).toContain("no-cache");
      await expect.poll(() => stream.events.length).toBe(1);
      expect(stream.events[0]).toMatchObject({ id: runId, status: "queued", attempt: 0 });
      expect(stream.events[0]!.output).toBeUndefined();
    } finally {
      await resumeQueue();
    }
    await stream.finished;
    expect(stream.events.map((e) => [e.status, e.attempt])).toEqual([["queued", 0], ["running", 1], ["succeeded", 1]]);
    const last = stream.events.at(-1)!;
    expect(last.output).toMatchObject({ successful: true, error: null, data: expect.anything() });
    expect(Date.parse(last.at)).toBeGreaterThanOrEqual(Date.parse(stream.events[0]!.at));
    expect(stream.frames.every((f) => f.includes("event: run") && /^id: \d+-[a-z]+$/m.test(f))).toBe(true);
    await expect.poll(openStreams).toBe(0);
  });

  it("shows a retry: queued again with the reason, then the next attempt", async () => {
    ws.faults([{ route: "POST /v1/batches", error_rate: 1, error_status: 503, times: 1 }]);
    await pauseQueue();
    let stream: Awaited<ReturnType<typeof follow>>;
    try {
      stream = await follow(await queuedRun({ name: "events_batch", project: "kitten_labeling" }, "SCALE_AI_CREATE_BATCH"));
      await expect.poll(() => stream.events.length).toBe(1);
    } finally {
      await resumeQueue();
    }
    await stream.finished;
    expect(stream.events.map((e) => [e.status, e.attempt])).toEqual([["queued", 0], ["running", 1], ["queued", 1], ["running", 2], ["succeeded", 2]]);
    expect(stream.events[2]!.reason).toMatch(/attempt 1 of \d+ failed \(UPSTREAM_UNAVAILABLE 503\)/);
    expect(stream.events[4]!.output).toMatchObject({ successful: true, data: { name: "events_batch" } });
  });

  it("sends an ended run's final state with its envelope and ends; a resume (Last-Event-ID) of it answers 204", async () => {
    await s.execute(ws.apiKey, "SCALE_AI_CREATE_BATCH", { input: { name: "ended_batch", project: "kitten_labeling" } });
    const failed = await s.execute(ws.apiKey, "SCALE_AI_CREATE_BATCH", { input: { name: "ended_batch", project: "kitten_labeling" } });
    expect(failed.body.error.code).toBe("UPSTREAM_CONFLICT");
    const stream = await follow(failed.body.run_id);
    await stream.finished;
    expect(stream.events).toHaveLength(1);
    expect(stream.events[0]).toMatchObject({ status: "failed", attempt: 1, output: { successful: false, data: null, error: { code: "UPSTREAM_CONFLICT" } } });

    const resumed = await s.app.inject({ method: "GET", url: `/v1/runs/${failed.body.run_id}/events`, headers: { ...bearer(ws.apiKey), "last-event-id": "1-failed" } });
    expect(resumed.statusCode).toBe(204);
    expect(resumed.body).toBe("");
  });

  it("answers 404 for another workspace's run and for an unknown run, 401 without a key", async () => {
    const runId = (await s.execute(ws.apiKey, "SCALE_AI_LIST_PROJECTS", { input: {} })).body.run_id as string;
    const other = await s.createWorkspace("other");
    const foreign = await s.app.inject({ method: "GET", url: `/v1/runs/${runId}/events`, headers: bearer(other.apiKey) });
    expect(foreign.statusCode).toBe(404);
    expect(foreign.json().error.code).toBe("NOT_FOUND");
    const resumedForeign = await s.app.inject({ method: "GET", url: `/v1/runs/${runId}/events`, headers: { ...bearer(other.apiKey), "last-event-id": "1-succeeded" } });
    expect(resumedForeign.statusCode).toBe(404);
    const unknown = await s.app.inject({ method: "GET", url: "/v1/runs/0190a8a6-0000-7000-8000-000000000000/events", headers: bearer(ws.apiKey) });
    expect(unknown.statusCode).toBe(404);
    expect((await s.app.inject({ method: "GET", url: `/v1/runs/${runId}/events` })).statusCode).toBe(401);
    expect(openStreams()).toBe(0);
  });

  it("stops following when the client disconnects", async () => {
    await pauseQueue();
    try {
      const stream = await follow(await queuedRun());
      await expect.poll(() => stream.events.length).toBe(1);
      expect(openStreams()).toBe(1);
      expect((await s.app.inject({ method: "GET", url: "/metrics" })).body).toMatch(/^nagent_run_event_streams_open 1$/m);
      stream.close();
      await expect.poll(openStreams).toBe(0);
      expect((await s.app.inject({ method: "GET", url: "/metrics" })).body).toMatch(/^nagent_run_event_streams_open 0$/m);
    } finally {
      await resumeQueue();
    }
  });

  it("holds at most NAGENT_EVENT_STREAMS_MAX streams per process, answering 503 with Retry-After beyond", async () => {
    await pauseQueue();
    const streams: Awaited<ReturnType<typeof follow>>[] = [];
    try {
      for (let i = 0; i < MAX_STREAMS; i++) streams.push(await follow(await queuedRun()));
      await expect.poll(() => streams.every((x) => x.events.length === 1)).toBe(true);
      const refused = await follow(await queuedRun());
      expect(refused.res.statusCode).toBe(503);
      expect(refused.res.headers["retry-after"]).toBe("5");
      await refused.finished;
      expect(JSON.parse(refused.text()).error.code).toBe("STREAM_LIMIT_REACHED");

      streams.shift()!.close();
      await expect.poll(openStreams).toBe(MAX_STREAMS - 1);
      const again = await follow(await queuedRun());
      expect(again.res.statusCode).toBe(200);
      streams.push(again);
    } finally {
      for (const x of streams) x.close();
      await resumeQueue();
    }
    await expect.poll(openStreams).toBe(0);
  });

  it("ends open streams when the app closes, so a graceful shutdown is not held by clients", async () => {
    const second = await buildApp(s.deps);
    await second.listen({ host: "127.0.0.1", port: 0 });
    await pauseQueue();
    try {
      const stream = await follow(await queuedRun(), ws.apiKey, {}, `http://127.0.0.1:${(second.server.address() as AddressInfo).port}`);
      await expect.poll(() => stream.events.length).toBe(1);
      await second.close();
      await stream.finished;
      expect(stream.ended()).toBe(true);
      expect(openStreams()).toBe(0);
    } finally {
      await resumeQueue();
    }
  });
});
