import { beforeEach, describe, expect, it } from "vitest";
import { IMAGE_TASK, client, eventually, sandbox, sandboxForFile } from "./helpers";

const sb = sandboxForFile({ keys: ["test_fault_a", "test_fault_b"], faults: { test_fault_b: [{ route: "GET /v1/teams", error_rate: 1, error_status: 503 }] } });
const a = sb.client("test_fault_a");
const b = sb.client("test_fault_b");
const control = sb.client(null);
beforeEach(async () => {
  await control.del("/sandbox/keys/test_fault_a/faults");
  await control.del("/sandbox/keys/*/faults");
});

const setFaults = async (key: string, faults: unknown[]): Promise<void> => {
  const answer = await control.put(`/sandbox/keys/${key}/faults`, { faults });
  expect(answer.status).toBe(200);
};

describe("fault injection", () => {
  it("applies faults given at start", async () => {
    const answer = await b.get("/v1/teams");
    expect(answer.status).toBe(503);
    expect(answer.body).toEqual({ status_code: 503, error: "Service Unavailable" });
    expect((await b.get("/v1/projects")).status).toBe(200);
  });

  it("adds a fixed latency, and a random one within [min, max]", async () => {
    await setFaults("test_fault_a", [{ route: "/v1/projects", latency_ms: 150 }]);
    let started = performance.now();
    expect((await a.get("/v1/projects")).status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(145);
    await setFaults("test_fault_a", [{ latency_ms: [100, 120] }]);
    started = performance.now();
    expect((await a.get("/v1/projects")).status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(95);
  });

  it("rate-limits: N requests per window, then 429 with Scale's body, with Retry-After when asked", async () => {
    await setFaults("test_fault_a", [{ rate_limit: { requests: 2, window_ms: 60_000, retry_after: true } }]);
    expect((await a.get("/v1/projects")).status).toBe(200);
    expect((await a.get("/v1/projects")).status).toBe(200);
    const limited = await a.get("/v1/projects");
    expect(limited.status).toBe(429);
    expect(limited.body).toEqual({ status_code: 429, error: "Too Many Requests" });
    const retryAfter = Number(limited.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    // The other key is not limited.
    expect((await b.get("/v1/projects")).status).toBe(200);

    await setFaults("test_fault_a", [{ rate_limit: { requests: 0, window_ms: 60_000 } }]);
    const bare = await a.get("/v1/projects");
    expect(bare.status).toBe(429);
    expect(bare.headers.get("retry-after")).toBeNull();
  });

  it("answers 500 or 503 for the configured share of requests, and only on matching routes", async () => {
    await setFaults("test_fault_a", [{ route: "POST /v1/task/*", error_rate: 1 }]);
    const failed = await a.post("/v1/task/imageannotation", IMAGE_TASK);
    expect(failed.status).toBe(500);
    expect(failed.body).toEqual({ status_code: 500, error: "Internal Server Error" });
    expect((await a.get("/v1/tasks")).status).toBe(200);
    await setFaults("test_fault_a", [{ error_rate: 0 }]);
    expect((await a.post("/v1/task/imageannotation", IMAGE_TASK)).status).toBe(200);
  });

  it("limits a rule to its next `times` requests, then it expires", async () => {
    await setFaults("test_fault_a", [{ error_rate: 1, error_status: 503, times: 2 }]);
    expect((await a.get("/v1/projects")).status).toBe(503);
    expect((await a.get("/v1/projects")).status).toBe(503);
    expect((await a.get("/v1/projects")).status).toBe(200);
    expect((await control.get("/sandbox/keys/test_fault_a/faults")).body).toEqual({ faults: [] });
  });

  it("hangs until the client gives up", async () => {
    await setFaults("test_fault_a", [{ route: "/v1/teams", hang: true }]);
    await expect(a.get("/v1/teams", { signal: AbortSignal.timeout(200) })).rejects.toThrow(/abort|timeout/i);
    await control.del("/sandbox/keys/test_fault_a/faults");
    expect((await a.get("/v1/teams")).status).toBe(200);
  });

  it("drops the connection without an answer", async () => {
    await setFaults("test_fault_a", [{ drop: true, times: 1 }]);
    await expect(a.get("/v1/projects")).rejects.toThrow(/fetch failed/);
    expect((await a.get("/v1/projects")).status).toBe(200);
  });

  it("drop_after serves the request, then loses its answer: the batch exists though the client heard nothing", async () => {
    await a.post("/v1/projects", { type: "imageannotation", name: "drop_after_project", params: {} });
    await setFaults("test_fault_a", [{ route: "POST /v1/batches", drop_after: true, times: 1 }]);
    await expect(a.post("/v1/batches", { name: "lost_answer_batch", project: "drop_after_project" })).rejects.toThrow(/fetch failed/);
    const read = await a.get("/v1/batches/lost_answer_batch");
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ name: "lost_answer_batch", project: "drop_after_project" });
    expect((await a.post("/v1/batches", { name: "lost_answer_batch", project: "drop_after_project" })).status).toBe(409); // the rule expired
  });

  it("malform serves the request and nulls every top-level field of its JSON answer", async () => {
    await setFaults("test_fault_a", [{ route: "GET /v1/teams", malform: true, times: 1 }]);
    const garbled = await a.get("/v1/projects");
    expect(garbled.status).toBe(200); // another route: untouched
    const teams = await a.get("/v1/teams");
    expect(teams.status).toBe(200);
    expect(Array.isArray(teams.body) && teams.body.every((m: unknown) => m === null)).toBe(true);
    await setFaults("test_fault_a", [{ route: "GET /v1/projects/*", malform: true, times: 1 }]);
    const project = await a.get("/v1/projects/drop_after_project");
    expect(project.status).toBe(200);
    expect(Object.values(project.body).every((v) => v === null)).toBe(true);
    expect(project.body).toHaveProperty("name", null);
  });

  it("applies `*` rules to every key", async () => {
    await setFaults("*", [{ route: "GET /v1/batches", error_rate: 1 }]);
    expect((await a.get("/v1/batches")).status).toBe(500);
    expect((await b.get("/v1/batches")).status).toBe(500);
  });

  it("validates rules: 400 for an unknown option or a bad value, 404 for an unknown key", async () => {
    expect((await control.put("/sandbox/keys/test_fault_a/faults", { faults: [{ explode: true }] })).status).toBe(400);
    expect((await control.put("/sandbox/keys/test_fault_a/faults", { faults: [{ error_rate: 2 }] })).status).toBe(400);
    expect((await control.put("/sandbox/keys/test_fault_a/faults", { faults: [{ error_status: 502, error_rate: 1 }] })).status).toBe(400);
    expect((await control.put("/sandbox/keys/test_nobody/faults", { faults: [{ hang: true }] })).status).toBe(404);
    // A bare array of rules is accepted too.
    expect((await control.put("/sandbox/keys/test_fault_a/faults", [{ latency_ms: 1 }])).body.faults).toEqual([{ rule: { latency_ms: 1 } }]);
  });

  it("counts requests per key and route, faulted ones included", async () => {
    const fresh = await sandbox({ keys: ["test_count"], faults: { test_count: [{ error_rate: 1, times: 1 }] } });
    try {
      const c = client(fresh.url, "test_count");
      expect((await c.post("/v1/task/imageannotation", IMAGE_TASK)).status).toBe(500);
      expect((await c.post("/v1/task/imageannotation", IMAGE_TASK)).status).toBe(200);
      await c.get("/v1/tasks");
      await client(fresh.url, "test_unknown").get("/v1/tasks");
      const counts = (await client(fresh.url, null).get("/sandbox/keys/test_count/requests")).body;
      expect(counts).toEqual({ total: 3, routes: { "POST /v1/task/:type": 2, "GET /v1/tasks": 1 } });
      expect(fresh.control.requestCounts("test_count").total).toBe(3);
    } finally {
      await fresh.close();
    }
  });

  it("closes promptly while requests hang or wait out a latency", async () => {
    const fresh = await sandbox({ keys: ["test_close"], faults: { test_close: [{ route: "/v1/teams", hang: true }, { route: "/v1/projects", latency_ms: 600_000 }] } });
    const c = client(fresh.url, "test_close");
    const hanging = c.get("/v1/teams").then(
      () => "answered",
      () => "cut",
    );
    const slow = c.get("/v1/projects").then(
      (r) => r.status,
      () => "cut",
    );
    // Both requests have reached the sandbox (counted) before it closes.
    await eventually(() => expect(fresh.control.requestCounts("test_close").total).toBe(2));
    await fresh.close();
    expect(await hanging).toBe("cut");
    expect(["cut", 200, 503]).toContain(await slow);
  });
});
