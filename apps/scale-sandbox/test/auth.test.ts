import { describe, expect, it } from "vitest";
import { IMAGE_TASK, sandboxForFile } from "./helpers";

const sb = sandboxForFile({ keys: ["test_auth_one", "test_auth_two", "live_auth_one"] });

describe("authentication", () => {
  it("answers 401 with Scale's error body without credentials, with an unknown key, or with an empty username", async () => {
    for (const c of [sb.client(null), sb.client("test_unknown"), sb.client("")]) {
      const answer = await c.get("/v1/tasks");
      expect(answer.status).toBe(401);
      expect(answer.body).toEqual({ status_code: 401, error: "No valid API key provided." });
    }
    const malformed = await sb.client(null).get("/v1/projects", { headers: { authorization: "Digest abc" } });
    expect(malformed.status).toBe(401);
  });

  it("takes the key as the Basic username (password ignored) and as a Bearer token", async () => {
    const withPassword = await fetch(`${sb.url}/v1/projects`, {
      headers: { authorization: `Basic ${Buffer.from("test_auth_one:ignored").toString("base64")}` },
    });
    expect(withPassword.status).toBe(200);
    const bearer = await fetch(`${sb.url}/v1/projects`, { headers: { authorization: "Bearer test_auth_one" } });
    expect(bearer.status).toBe(200);
  });

  it("keeps each key's world separate: projects, tasks and unique ids are invisible to other keys", async () => {
    const one = sb.client("test_auth_one");
    const two = sb.client("test_auth_two");
    const live = sb.client("live_auth_one");
    expect((await one.post("/v1/projects", { name: "shared-name", type: "imageannotation" })).status).toBe(200);
    // The same name is free in another world, and the first world's project is not found from there.
    expect((await two.get("/v1/projects/shared-name")).status).toBe(404);
    expect((await two.post("/v1/projects", { name: "shared-name", type: "textcollection" })).status).toBe(200);
    expect((await live.post("/v1/task/imageannotation", { ...IMAGE_TASK, project: "shared-name" })).status).toBe(404);

    const task = await one.post("/v1/task/imageannotation", { ...IMAGE_TASK, unique_id: "same-uid" });
    expect(task.status).toBe(200);
    expect((await two.get(`/v1/task/${task.body.task_id}`)).status).toBe(404);
    expect((await two.post("/v1/task/imageannotation", { ...IMAGE_TASK, unique_id: "same-uid" })).status).toBe(200);
    expect((await two.get("/v1/tasks")).body.docs.map((t: { task_id: string }) => t.task_id)).not.toContain(task.body.task_id);
  });

  it("marks tasks of test keys is_test and of live keys not", async () => {
    const test = await sb.client("test_auth_one").post("/v1/task/imageannotation", IMAGE_TASK);
    const live = await sb.client("live_auth_one").post("/v1/task/imageannotation", IMAGE_TASK);
    expect(test.body.is_test).toBe(true);
    expect(live.body.is_test).toBe(false);
  });
});

describe("requests as Scale's SDK sends them", () => {
  it("accepts an empty body with content-type json on a body-less POST and DELETE", async () => {
    const c = sb.client("test_auth_one");
    await c.post("/v1/projects", { name: "sdk-p", type: "imageannotation" });
    await c.post("/v1/batches", { name: "sdk-b", project: "sdk-p", callback: "", metadata: {}, self_label_batch: false, calibration_batch: false });
    const finalize = await c.post("/v1/batches/sdk-b/finalize", undefined, { raw: "", headers: { "content-length": "0" } });
    expect(finalize.status).toBe(200);
    const task = await c.post("/v1/task/imageannotation", { ...IMAGE_TASK, unique_id: "sdk-uid" });
    const cleared = await c.del(`/v1/task/${task.body.task_id}/unique_id`, undefined, { raw: "" });
    expect(cleared.status).toBe(200);
    expect(cleared.body).not.toHaveProperty("unique_id");
  });

  it("answers 400 with Scale's body for a body that is not JSON", async () => {
    const answer = await sb.client("test_auth_one").post("/v1/projects", undefined, { raw: "{not json" });
    expect(answer.status).toBe(400);
    expect(answer.body).toEqual({ status_code: 400, error: "Request body is not valid JSON." });
  });

  it("answers 404 with Scale's body for an unknown route", async () => {
    const answer = await sb.client("test_auth_one").get("/v1/nothing-here");
    expect(answer.status).toBe(404);
    expect(answer.body).toEqual({ status_code: 404, error: "Not Found" });
  });

  it("keeps the control API apart from /v1: no Basic auth there, and no control route under /v1", async () => {
    expect((await sb.client(null).get("/sandbox/health")).body).toEqual({ ok: true });
    expect((await sb.client("test_auth_one").post("/v1/sandbox/reset")).status).toBe(404);
  });

  it("accepts percent-encoded batch and project names with spaces and slashes", async () => {
    const c = sb.client("test_auth_one");
    expect((await c.post("/v1/projects", { name: "a bc/def", type: "imageannotation" })).status).toBe(200);
    const got = await c.get(`/v1/projects/${encodeURIComponent("a bc/def")}`);
    expect(got.status).toBe(200);
    expect(got.body.name).toBe("a bc/def");
  });
});
