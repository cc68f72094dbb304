// Issue 14, items 1, 2, 3 and 7: no false failures on creates whose answer was lost, `unknown` for writes that cannot
// be reconciled (and POST /v1/runs/:id/reconcile), the output check with strict mode, and redaction of fields the
// manifest marks sensitive — each provoked with the Scale sandbox's fault injection, against the real services.
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer } from "../../support/app";
import { createTestStack, type TestStack } from "../../support/stack";
import { createRunStore } from "@nagent/runs";
import { executeAsync, getRun, waitForEnd, type RunBody } from "../../support/execution";
import { followRunEvents } from "../../support/run-events";
import { connectedWorkspace } from "../../support/workspace";

const TIMEOUT_MS = 1_000;

let s: TestStack;
beforeAll(async () => {
  s = await createTestStack({ listen: true, env: { NAGENT_UPSTREAM_TIMEOUT_MS: String(TIMEOUT_MS), NAGENT_MAX_ATTEMPTS: "3" } });
});
afterAll(async () => {
  await s?.close();
});

/** A run as GET /v1/runs/:id shows it, with this fields. */
type HonestRun = RunBody & {
  input: Record<string, unknown>;
  platform_assigned: string[];
  output_check: { valid: boolean; problems: { path: string; message: string }[] } | null;
  reconciled_at: string | null;
  reconciled_by: string | null;
};

/** The run once it has ended (`unknown` included), with this fields. */
const waitForEnded = async (apiKey: string, id: string) => (await waitForEnd(s, apiKey, id)) as HonestRun;

const workspaceWithProject = (name: string) => connectedWorkspace(s, name, { projects: ["kitten_labeling"] });

const post = (apiKey: string, url: string, payload: unknown) => s.app.inject({ method: "POST", url, headers: bearer(apiKey), payload: payload as Record<string, unknown> });

describe("no false failures on creates", () => {
  it("a batch create whose answer was lost ends succeeded with the one batch it created (409 → read back, compared)", async () => {
    const ws = await workspaceWithProject("lost-batch");
    ws.faults([{ route: "POST /v1/batches", drop_after: true, times: 1 }]);
    const id = await executeAsync(s, ws.apiKey, "SCALE_AI_CREATE_BATCH", { name: "kittens_lost_1", project: "kitten_labeling" });
    const run = await waitForEnded(ws.apiKey, id);
    expect(run.status).toBe("succeeded");
    expect(run.output).toMatchObject({ successful: true, data: { name: "kittens_lost_1", project: "kitten_labeling" } });
    expect(run.attempts.map((a) => [a.outcome, a.error_code])).toEqual([["retry", "UPSTREAM_UNAVAILABLE"], ["succeeded", null]]);
    expect(ws.requests("POST /v1/batches")).toBe(2); // the lost create and the retry that met 409
    const batches = await ws.scale("GET", "/v1/batches?project=kitten_labeling");
    expect(batches.body.docs.map((b: { name: string }) => b.name)).toEqual(["kittens_lost_1"]);
  });

  it("a 409 for a batch of the same name that is not this request's (another project) stays a failure", async () => {
    const ws = await workspaceWithProject("taken-batch");
    await ws.createProject("other_project");
    expect((await ws.scale("POST", "/v1/batches", { name: "kittens_taken", project: "other_project" })).status).toBe(200);
    // The first attempt is dropped before it is served (it may have reached Scale, as far as we can tell); the retry
    // meets 409, reads the batch and finds that its project differs: not ours.
    ws.faults([{ route: "POST /v1/batches", drop: true, times: 1 }]);
    const id = await executeAsync(s, ws.apiKey, "SCALE_AI_CREATE_BATCH", { name: "kittens_taken", project: "kitten_labeling" });
    const run = await waitForEnded(ws.apiKey, id);
    expect(run.status).toBe("failed");
    expect(run.output?.error).toMatchObject({ code: "UPSTREAM_CONFLICT", upstream_status: 409 });
    expect(run.output?.error?.message).toMatch(/differs from this request \(project\)/);
  });

  it("a task create without unique_id gets a platform-assigned one, so a lost answer ends succeeded with one task", async () => {
    const ws = await workspaceWithProject("lost-task");
    ws.faults([{ route: "POST /v1/task/*", drop_after: true, times: 1 }]);
    const id = await executeAsync(s, ws.apiKey, "SCALE_AI_CREATE_IMAGE_ANNOTATION_TASK", {
      project: "kitten_labeling", attachment: "https://example.com/images/kitten_001.jpg", geometries: { box: { objects_to_annotate: ["kitten"] } },
    });
    const run = await waitForEnded(ws.apiKey, id);
    expect(run.status).toBe("succeeded");
    expect(run.platform_assigned).toEqual(["unique_id"]);
    expect(run.input.unique_id).toBe(`nagent_${id}`);
    expect(run.output?.data).toMatchObject({ unique_id: `nagent_${id}`, type: "imageannotation" });
    expect(run.attempts.map((a) => a.outcome)).toEqual(["retry", "succeeded"]);
    const tasks = await s.execute(ws.apiKey, "SCALE_AI_LIST_TASKS", { input: { project: "kitten_labeling" } });
    expect(tasks.body.data.docs.map((t: { task_id: string }) => t.task_id)).toEqual([run.output?.data.task_id]);
  });

  it("a caller's own unique_id is kept and not marked platform-assigned", async () => {
    const ws = await workspaceWithProject("own-unique-id");
    const res = await s.execute(ws.apiKey, "SCALE_AI_CREATE_IMAGE_ANNOTATION_TASK", {
      input: { project: "kitten_labeling", unique_id: "mine_1", attachment: "https://example.com/images/kitten_001.jpg", geometries: { box: { objects_to_annotate: ["kitten"] } } },
    });
    expect(res.body).toMatchObject({ successful: true, data: { unique_id: "mine_1" } });
    const run = (await getRun(s, ws.apiKey, res.body.run_id)) as HonestRun;
    expect(run.platform_assigned).toEqual([]);
  });
});

describe("unknown outcome and reconciliation", () => {
  it("a timed-out write that cannot be reconciled ends unknown, is not repeated, and is reconciled by the caller", async () => {
    const ws = await workspaceWithProject("unknown-timeout");
    ws.faults([{ route: "POST /v1/files/import", hang: true, times: 1 }]);
    const id = await executeAsync(s, ws.apiKey, "SCALE_AI_IMPORT_FILE", { file_url: "https://example.com/images/kitten_009.jpg" });
    const run = await waitForEnded(ws.apiKey, id);
    expect(run.status).toBe("unknown");
    expect(run.output).toMatchObject({ data: null, successful: false, error: { code: "UPSTREAM_OUTCOME_UNKNOWN", retryable: false } });
    expect(run.output?.error?.message).toMatch(/UPSTREAM_TIMEOUT/);
    expect(run.attempts.map((a) => [a.outcome, a.error_code])).toEqual([["unknown", "UPSTREAM_OUTCOME_UNKNOWN"]]);
    expect(ws.requests("POST /v1/files/import")).toBe(1); // never retried blindly

    const listed = await s.app.inject({ method: "GET", url: "/v1/runs?status=unknown", headers: bearer(ws.apiKey) });
    expect(listed.statusCode).toBe(200);
    expect(listed.json().runs.map((r: { id: string; successful: boolean }) => [r.id, r.successful])).toEqual([[id, false]]);

    // Data that does not match the output schema is refused with pointers.
    const bad = await post(ws.apiKey, `/v1/runs/${id}/reconcile`, { status: "succeeded", data: { id: 7 } });
    expect(bad.statusCode, bad.body).toBe(400);
    expect(bad.json().error.code).toBe("VALIDATION_FAILED");
    expect(bad.json().error.details.map((d: { path: string }) => d.path)).toEqual(expect.arrayContaining([expect.stringMatching(/^\/data/)]));
    // Another workspace cannot see it.
    const other = await s.createWorkspace("other");
    expect((await post(other.apiKey, `/v1/runs/${id}/reconcile`, { status: "failed" })).statusCode).toBe(404);

    const data = { id: "file_found_1", attachment_url: "scaledata://file_found_1", mime_type: "image/jpeg" };
    const ok = await post(ws.apiKey, `/v1/runs/${id}/reconcile`, { status: "succeeded", data });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json().run).toMatchObject({ status: "succeeded", output: { data, error: null, successful: true }, reconciled_by: expect.any(String) });
    expect(ok.json().run.reconciled_at).not.toBeNull();

    const again = await post(ws.apiKey, `/v1/runs/${id}/reconcile`, { status: "failed" });
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe("RUN_NOT_RECONCILABLE");
  });

  it("a dropped connection after sending ends unknown; reconciling it as failed records the caller's error", async () => {
    const ws = await workspaceWithProject("unknown-drop");
    ws.faults([{ route: "POST /v1/files/import", drop_after: true, times: 1 }]);
    const id = await executeAsync(s, ws.apiKey, "SCALE_AI_IMPORT_FILE", { file_url: "https://example.com/images/kitten_010.jpg" });
    const run = await waitForEnded(ws.apiKey, id);
    expect(run.status).toBe("unknown");
    expect(ws.requests("POST /v1/files/import")).toBe(1);
    const res = await post(ws.apiKey, `/v1/runs/${id}/reconcile`, { status: "failed", error: { code: "NOT_IMPORTED", message: "No such file in the project." } });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().run).toMatchObject({ status: "failed", error_code: "NOT_IMPORTED", output: { successful: false, data: null, error: { code: "NOT_IMPORTED", message: "No such file in the project.", retryable: false } } });
  });

  it("a write that cannot be reconciled is not repeated after its worker died mid-attempt: unknown", async () => {
    const ws = await workspaceWithProject("unknown-lost-worker");
    await s.infra.producer.queue.pause();
    let id: string;
    try {
      id = await executeAsync(s, ws.apiKey, "SCALE_AI_IMPORT_FILE", { file_url: "https://example.com/images/kitten_013.jpg" });
      // A worker claims the run and dies before it ends the attempt (its call may have reached Scale).
      expect(await createRunStore(s.db.pool).claim(id)).toMatchObject({ id, attempt: 1 });
    } finally {
      await s.infra.producer.queue.resume();
    }
    const run = await waitForEnded(ws.apiKey, id);
    expect(run.status).toBe("unknown");
    expect(run.output?.error?.code).toBe("UPSTREAM_OUTCOME_UNKNOWN");
    expect(run.output?.error?.message).toMatch(/process running attempt 1 stopped/);
    expect(run.attempts.map((a) => a.outcome)).toEqual(["lost", "unknown"]);
    expect(ws.requests("POST /v1/files/import")).toBe(0); // the next attempt did not call again
  });

  it("an unknown run's event stream stays open and ends with the reconciled state", async () => {
    const ws = await workspaceWithProject("unknown-sse");
    ws.faults([{ route: "POST /v1/files/import", drop_after: true, times: 1 }]);
    const id = await executeAsync(s, ws.apiKey, "SCALE_AI_IMPORT_FILE", { file_url: "https://example.com/images/kitten_012.jpg" });
    expect((await waitForEnded(ws.apiKey, id)).status).toBe("unknown");
    const stream = await followRunEvents<{ status: string; output?: { successful: boolean; error: { code: string } | null } | null }>(s.baseUrl!, id, ws.apiKey);
    expect(stream.res.statusCode).toBe(200);
    const { events } = stream;
    await expect.poll(() => events.length).toBe(1);
    expect(events[0]).toMatchObject({ status: "unknown", output: { successful: false, error: { code: "UPSTREAM_OUTCOME_UNKNOWN" } } });
    await new Promise((r) => setTimeout(r, 200));
    expect(stream.ended()).toBe(false); // waiting for the reconciliation
    const data = { id: "file_sse_1", attachment_url: "scaledata://file_sse_1" };
    expect((await post(ws.apiKey, `/v1/runs/${id}/reconcile`, { status: "succeeded", data })).statusCode).toBe(200);
    await expect.poll(() => stream.ended(), { timeout: 5_000 }).toBe(true);
    expect(events.map((e) => e.status)).toEqual(["unknown", "succeeded"]);
    expect(events[1]).toMatchObject({ output: { successful: true, data } });
  });

  it("a run that is not unknown cannot be reconciled; an idempotent write is retried as before", async () => {
    const ws = await workspaceWithProject("not-unknown");
    ws.faults([{ route: "PUT /v1/task/*", hang: true, times: 1 }]);
    const created = await s.execute(ws.apiKey, "SCALE_AI_CREATE_IMAGE_ANNOTATION_TASK", {
      input: { project: "kitten_labeling", attachment: "https://example.com/images/kitten_001.jpg", geometries: { box: { objects_to_annotate: ["kitten"] } } },
    });
    const taskId = created.body.data.task_id as string;
    const id = await executeAsync(s, ws.apiKey, "SCALE_AI_ADD_TASK_TAGS", { task_id: taskId, tags: ["calm"] });
    const run = await waitForEnded(ws.apiKey, id);
    expect(run.status).toBe("succeeded");
    expect(run.attempts.map((a) => [a.outcome, a.error_code])).toEqual([["retry", "UPSTREAM_TIMEOUT"], ["succeeded", null]]);
    const res = await post(ws.apiKey, `/v1/runs/${id}/reconcile`, { status: "failed" });
    expect(res.statusCode).toBe(409);
    expect(res.json().error.code).toBe("RUN_NOT_RECONCILABLE");
  });
});

describe("output check", () => {
  it("records a mismatch on the run and counts it; in strict mode the run fails with OUTPUT_SCHEMA_MISMATCH, data kept", async () => {
    const ws = await workspaceWithProject("output-check");
    const read = async () => s.execute(ws.apiKey, "SCALE_AI_GET_PROJECT", { input: { project_name: "kitten_labeling" } });

    const fine = await read();
    expect(fine.body.successful).toBe(true);
    expect(((await getRun(s, ws.apiKey, fine.body.run_id)) as HonestRun).output_check).toEqual({ valid: true, problems: [] });

    // Record mode (the default): the run succeeds, the mismatch is on the run.
    ws.faults([{ route: "GET /v1/projects/*", malform: true, times: 1 }]);
    const recorded = await read();
    expect(recorded.body).toMatchObject({ successful: true, data: { name: null } });
    const recordedRun = (await getRun(s, ws.apiKey, recorded.body.run_id)) as HonestRun;
    expect(recordedRun.output_check?.valid).toBe(false);
    expect(recordedRun.output_check?.problems.length).toBeGreaterThan(0);
    expect(recordedRun.output_check?.problems.length).toBeLessThanOrEqual(10);
    expect(recordedRun.output_check?.problems.map((p) => p.path)).toContain("/name");

    const settings = await s.app.inject({ method: "PATCH", url: "/v1/workspace/settings", headers: bearer(ws.apiKey), payload: { output_check: "strict" } });
    expect(settings.statusCode, settings.body).toBe(200);
    expect(settings.json()).toEqual({ settings: { output_check: "strict" } });
    expect((await s.app.inject({ method: "GET", url: "/v1/workspace/settings", headers: bearer(ws.apiKey) })).json()).toEqual({ settings: { output_check: "strict" } });
    const badSetting = await s.app.inject({ method: "PATCH", url: "/v1/workspace/settings", headers: bearer(ws.apiKey), payload: { output_check: "lenient" } });
    expect(badSetting.statusCode).toBe(400);

    ws.faults([{ route: "GET /v1/projects/*", malform: true, times: 1 }]);
    const strict = await read();
    expect(strict.body).toMatchObject({ successful: false, data: { name: null }, error: { code: "OUTPUT_SCHEMA_MISMATCH", retryable: false } });
    const strictRun = (await getRun(s, ws.apiKey, strict.body.run_id)) as HonestRun;
    expect(strictRun.status).toBe("failed");
    expect(strictRun.output_check?.valid).toBe(false);
    // A well-formed answer still succeeds in strict mode.
    expect((await read()).body.successful).toBe(true);

    await expect.poll(async () => {
      const metrics = await s.app.inject({ method: "GET", url: "/metrics" });
      const line = metrics.body.split("\n").find((l) => l.startsWith("nagent_output_checks_total") && l.includes('action="SCALE_AI_GET_PROJECT"') && l.includes('result="mismatch"'));
      return line ? Number(line.split(" ").pop()) : 0;
    }, { timeout: 5_000, interval: 100 }).toBeGreaterThanOrEqual(2);
  });
});

describe("redaction from schema annotations", () => {
  it("a field marked x-sensitive reaches the upstream but never the database, the logs or Redis", async () => {
    const ws = await workspaceWithProject("sensitive");
    const signature = `sig${randomBytes(16).toString("hex")}`;
    const fileUrl = `https://example.com/images/kitten_011.jpg?X-Amz-Signature=${signature}`;
    const res = await s.execute(ws.apiKey, "SCALE_AI_IMPORT_FILE", { input: { file_url: fileUrl, project_name: "kitten_labeling" } });
    // The sandbox refuses anything but an http(s) URL: success shows the call carried the real value.
    expect(res.body).toMatchObject({ successful: true, data: { mime_type: "image/jpeg" } });
    const run = (await getRun(s, ws.apiKey, res.body.run_id)) as HonestRun;
    expect(run.input).toEqual({ file_url: "[redacted]", project_name: "kitten_labeling" });

    // An async run too (its sealed value crosses from the API to the worker through PostgreSQL, never through Redis).
    const id = await executeAsync(s, ws.apiKey, "SCALE_AI_IMPORT_FILE", { file_url: fileUrl });
    expect((await waitForEnded(ws.apiKey, id)).status).toBe("succeeded");
    const { rows: sealed } = await s.db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM run WHERE workspace_id = $1 AND sealed_input IS NOT NULL`, [ws.id]);
    expect(sealed[0]!.n).toBe(0); // cleared when the runs ended

    expect(s.logs.length).toBeGreaterThan(10);
    expect(s.logs.filter((l) => l.includes(signature))).toEqual([]);
    const { rows: tables } = await s.db.pool.query<{ table_name: string }>(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'`);
    for (const { table_name } of tables) {
      const { rows } = await s.db.pool.query<{ t: string }>(`SELECT t::text AS t FROM "${table_name}" t`);
      expect(rows.filter((r) => r.t.includes(signature)), table_name).toEqual([]);
    }
    const redis = new Redis(s.config.redisUrl);
    try {
      let cursor = "0";
      let scanned = 0;
      do {
        const [next, keys] = await redis.scan(cursor, "MATCH", `${s.config.queuePrefix}*`, "COUNT", 1000);
        cursor = next;
        for (const key of keys) {
          scanned++;
          const type = await redis.type(key);
          const value = type === "string" ? await redis.get(key) : type === "hash" ? JSON.stringify(await redis.hgetall(key))
            : type === "list" ? JSON.stringify(await redis.lrange(key, 0, -1)) : type === "zset" ? JSON.stringify(await redis.zrange(key, 0, -1))
            : type === "set" ? JSON.stringify(await redis.smembers(key)) : type === "stream" ? JSON.stringify(await redis.xrange(key, "-", "+")) : "";
          expect(value?.includes(signature), key).toBe(false);
        }
      } while (cursor !== "0");
      expect(scanned).toBeGreaterThan(0);
    } finally {
      redis.disconnect();
    }
  });
});
