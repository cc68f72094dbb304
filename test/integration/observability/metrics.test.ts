import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../../../apps/api/src/app";
import { bearer, createTestApp } from "../../support/app";
import { createStackWithWorkspace, type TestStack } from "../../support/stack";
import { connectedWorkspace, type ConnectedWorkspace } from "../../support/workspace";

let s: TestStack;
let ws: ConnectedWorkspace;
beforeAll(async () => ({ s, ws } = await createStackWithWorkspace({ workspace: { projects: ["kitten_labeling"] } })));
afterAll(() => s?.close());

async function scrape(app = s.app): Promise<string> {
  const res = await app.inject({ method: "GET", url: "/metrics" });
  expect(res.statusCode).toBe(200);
  expect(res.headers["content-type"]).toMatch(/^text\/plain; version=0\.0\.4/);
  return res.body;
}

/** The value of one sample line, by metric name and exact label set (in the order prom-client writes them). */
function sample(body: string, name: string, labels: Record<string, string>): number | undefined {
  const rendered = Object.entries(labels).map(([k, v]) => `${k}="${v}"`).join(",");
  const line = body.split("\n").find((l) => l.startsWith(`${name}{${rendered}} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(" ") + 1));
}

/** Every label value in the exposition. */
function labelValues(body: string): string[] {
  const values: string[] = [];
  for (const line of body.split("\n")) {
    if (line.startsWith("#")) continue;
    for (const m of line.matchAll(/[a-z_]+="((?:[^"\\]|\\.)*)"/g)) values.push(m[1]!);
  }
  return values;
}

const batch = { integration: "scale_ai", action: "SCALE_AI_CREATE_BATCH" };

describe("GET /metrics after real runs", () => {
  it("counts runs started and finished by integration, action, status and error code, with duration, latency and attempts", async () => {
    const ok = await s.execute(ws.apiKey, "SCALE_AI_CREATE_BATCH", { input: { name: "m_batch_1", project: "kitten_labeling" } });
    expect(ok.body.successful).toBe(true);
    const conflict = await s.execute(ws.apiKey, "SCALE_AI_CREATE_BATCH", { input: { name: "m_batch_1", project: "kitten_labeling" } });
    expect(conflict.body.error.code).toBe("UPSTREAM_CONFLICT");
    // One 503 first: the run succeeds on its second attempt.
    ws.faults([{ route: "POST /v1/batches", error_rate: 1, error_status: 503, times: 1 }]);
    const retried = await s.execute(ws.apiKey, "SCALE_AI_CREATE_BATCH", { input: { name: "m_batch_2", project: "kitten_labeling" } });
    expect(retried.body.successful).toBe(true);

    // Workers record a finished run just after ending it: poll rather than assume it is there already.
    await expect.poll(async () => sample(await scrape(), "nagent_run_attempts_count", batch)).toBe(3);
    const body = await scrape();
    expect(sample(body, "nagent_runs_started_total", batch)).toBe(3);
    expect(sample(body, "nagent_runs_finished_total", { ...batch, status: "succeeded", error_code: "" })).toBe(2);
    expect(sample(body, "nagent_runs_finished_total", { ...batch, status: "failed", error_code: "UPSTREAM_CONFLICT" })).toBe(1);
    expect(sample(body, "nagent_run_duration_seconds_count", batch)).toBe(3);
    expect(sample(body, "nagent_run_duration_seconds_bucket", { ...batch, le: "+Inf" })).toBe(3);
    expect(sample(body, "nagent_run_duration_seconds_sum", batch)).toBeGreaterThan(0);
    expect(sample(body, "nagent_upstream_latency_seconds_count", batch)).toBe(3);
    // Buckets are cumulative: two runs took one attempt, the third two.
    expect(sample(body, "nagent_run_attempts_bucket", { ...batch, le: "1" })).toBe(2);
    expect(sample(body, "nagent_run_attempts_bucket", { ...batch, le: "2" })).toBe(3);
    expect(sample(body, "nagent_run_attempts_bucket", { ...batch, le: "10" })).toBe(3);
    expect(sample(body, "nagent_run_attempts_sum", batch)).toBe(4);
    expect(body).toContain("# TYPE nagent_run_duration_seconds histogram");
    expect(body).toContain("# TYPE nagent_runs_finished_total counter");
  });

  it("counts a canceled run as finished", async () => {
    // Paused in Redis: no worker takes the run, so it is still queued when canceled.
    await s.infra.producer.queue.pause();
    try {
      const res = await s.execute(ws.apiKey, "SCALE_AI_LIST_PROJECTS", { input: {}, mode: "async" });
      const cancel = await s.app.inject({ method: "POST", url: `/v1/runs/${res.body.run_id}/cancel`, headers: bearer(ws.apiKey) });
      expect(cancel.statusCode).toBe(200);
    } finally {
      await s.infra.producer.queue.resume();
    }
    const labels = { integration: "scale_ai", action: "SCALE_AI_LIST_PROJECTS", status: "canceled", error_code: "CANCELED" };
    await expect.poll(async () => sample(await scrape(), "nagent_runs_finished_total", labels)).toBe(1);
  });

  it("reports queue job counts, HTTP durations by route pattern and the process's own metrics", async () => {
    const body = await scrape();
    for (const state of ["waiting", "prioritized", "active", "delayed", "failed"]) expect(sample(body, "nagent_queue_jobs", { state }), state).toBeTypeOf("number");
    expect(sample(body, "nagent_http_request_duration_seconds_count", { method: "POST", route: "/v1/actions/:slug/execute", status_code: "200" })).toBeGreaterThanOrEqual(3);
    expect(body).toMatch(/^nagent_process_cpu_user_seconds_total \d/m);
    expect(body).toMatch(/^nagent_nodejs_eventloop_lag_seconds \d/m);
    expect(body).toMatch(/^nagent_run_event_streams_open 0$/m);
  });

  it("never puts an id, a key or an unknown slug in a label", async () => {
    const other = await connectedWorkspace(s, "labels");
    const run = await s.execute(other.apiKey, "SCALE_AI_LIST_PROJECTS", { input: {} });
    expect((await s.execute(other.apiKey, "SCALE_AI_NO_SUCH_ACTION", { input: {} })).status).toBe(404);
    const get = await s.app.inject({ method: "GET", url: `/v1/runs/${run.body.run_id}?x=${other.id}`, headers: bearer(other.apiKey) });
    expect(get.statusCode).toBe(200);
    expect((await s.app.inject({ method: "GET", url: `/v1/nowhere/${other.connectionId}` })).statusCode).toBe(404);

    const body = await scrape();
    expect(sample(body, "nagent_http_request_duration_seconds_count", { method: "GET", route: "/v1/runs/:id", status_code: "200" })).toBeGreaterThanOrEqual(1);
    expect(sample(body, "nagent_http_request_duration_seconds_count", { method: "GET", route: "unmatched", status_code: "404" })).toBeGreaterThanOrEqual(1);
    const values = labelValues(body);
    expect(values.length).toBeGreaterThan(20);
    const uuid = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;
    for (const value of values) {
      expect(value, "label value").not.toMatch(uuid);
      expect(value).not.toContain("nk_");
      for (const key of [ws.scaleKey, other.scaleKey]) expect(value).not.toContain(key);
      expect(value).not.toContain("NO_SUCH_ACTION");
      expect(value).not.toContain("?");
    }
    for (const id of [ws.id, other.id, other.connectionId, run.body.run_id]) expect(body).not.toContain(id);
  });

  it("shows the same run metrics on every API process (they are kept in Redis)", async () => {
    const second = await buildApp(s.deps);
    try {
      await second.ready();
      const names = ["nagent_runs_started_total", "nagent_runs_finished_total", "nagent_run_attempts_count"];
      const lines = (text: string, name: string) => text.split("\n").filter((l) => l.startsWith(`${name}{`)).sort();
      // Recorders flush every 200 ms: compare once the earlier tests' last increments have landed.
      await expect.poll(async () => {
        const [a, b] = [await scrape(), await scrape(second)];
        return names.every((name) => lines(b, name).length > 0 && JSON.stringify(lines(b, name)) === JSON.stringify(lines(a, name)));
      }, { timeout: 5_000 }).toBe(true);
      const b = await scrape(second);
      // HTTP metrics are per process: the second app has served only this scrape.
      expect(sample(b, "nagent_http_request_duration_seconds_count", { method: "POST", route: "/v1/actions/:slug/execute", status_code: "200" })).toBeUndefined();
    } finally {
      await second.close();
    }
  });
});

describe("GET /metrics access and failures", () => {
  it("requires NAGENT_METRICS_TOKEN as a Bearer token when it is set", async () => {
    const token = "metrics-token-0123456789abcdef";
    const t = await createTestApp({ env: { NAGENT_METRICS_TOKEN: token } });
    try {
      const none = await t.app.inject({ method: "GET", url: "/metrics" });
      expect(none.statusCode).toBe(401);
      expect(none.json().error.code).toBe("UNAUTHORIZED");
      expect((await t.app.inject({ method: "GET", url: "/metrics", headers: bearer(t.config.adminToken) })).statusCode).toBe(401);
      const ok = await t.app.inject({ method: "GET", url: "/metrics", headers: bearer(token) });
      expect(ok.statusCode).toBe(200);
      expect(ok.body).toContain("nagent_http_request_duration_seconds");
    } finally {
      await t.close();
    }
  });

  it("still serves the process's metrics when Redis does not answer, leaving the cluster-wide series out", async () => {
    const t = await createTestApp({ redisUrl: "redis://127.0.0.1:1" });
    try {
      const res = await t.app.inject({ method: "GET", url: "/metrics" });
      expect(res.statusCode).toBe(200);
      expect(res.body).toMatch(/^nagent_process_cpu_user_seconds_total \d/m);
      expect(res.body).not.toMatch(/^nagent_queue_jobs\{/m);
      expect(res.body).not.toMatch(/^nagent_runs_started_total\{/m);
      expect(t.logs.some((l) => l.includes("metrics: could not read"))).toBe(true);
    } finally {
      await t.close();
    }
  });
});
