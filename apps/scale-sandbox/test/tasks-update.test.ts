import { describe, expect, it } from "vitest";
import { IMAGE_TASK, sandboxForFile, type Client } from "./helpers";

const sb = sandboxForFile({ keys: ["test_update", "live_update"] });
const c = sb.client("test_update");
const live = sb.client("live_update");

const newTask = async (who: Client = c, extra: Record<string, unknown> = {}): Promise<string> =>
  (await who.post("/v1/task/imageannotation", { ...IMAGE_TASK, ...extra })).body.task_id;

describe("GET /v1/task/:id", () => {
  it("answers the task, or 404 with Scale's body for an unknown id", async () => {
    const id = await newTask();
    expect((await c.get(`/v1/task/${id}`)).body.task_id).toBe(id);
    const missing = await c.get("/v1/task/fake_id_qwertyuiop");
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ status_code: 404, error: "Task fake_id_qwertyuiop not found." });
  });
});

describe("tags", () => {
  it("adds with PUT without duplicates, in order; replaces with POST; removes with DELETE and an array body", async () => {
    const id = await newTask();
    expect((await c.put(`/v1/task/${id}/tags`, ["tag1", "tag2"])).body.tags).toEqual(["tag1", "tag2"]);
    expect((await c.put(`/v1/task/${id}/tags`, ["tag2", "tag3"])).body.tags).toEqual(["tag1", "tag2", "tag3"]);
    expect((await c.del(`/v1/task/${id}/tags`, ["tag1", "tag2", "absent"])).body.tags).toEqual(["tag3"]);
    expect((await c.post(`/v1/task/${id}/tags`, ["x", "y"])).body.tags).toEqual(["x", "y"]);
    expect((await c.get(`/v1/task/${id}`)).body.tags).toEqual(["x", "y"]);
  });

  it("answers 400 for a body that is not an array of non-empty strings, or more than 5 tags; 404 for an unknown task", async () => {
    const id = await newTask();
    expect((await c.put(`/v1/task/${id}/tags`, { tags: ["a"] })).status).toBe(400);
    expect((await c.put(`/v1/task/${id}/tags`, [""])).status).toBe(400);
    expect((await c.del(`/v1/task/${id}/tags`, undefined, { raw: "" })).status).toBe(400);
    const tooMany = await c.put(`/v1/task/${id}/tags`, ["1", "2", "3", "4", "5", "6"]);
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error).toMatch(/"tags" must contain less than or equal to 5 items/);
    expect((await c.put("/v1/task/000000000000000000000000/tags", ["a"])).status).toBe(404);
    expect((await c.del("/v1/task/000000000000000000000000/tags", ["a"])).status).toBe(404);
  });
});

describe("metadata", () => {
  it("replaces the whole metadata with the body object, idempotently", async () => {
    const id = await newTask(c, { metadata: { old: 1 } });
    const first = await c.post(`/v1/task/${id}/setMetadata`, { myKey: "myValue" });
    expect(first.body.metadata).toEqual({ myKey: "myValue" });
    expect((await c.post(`/v1/task/${id}/setMetadata`, { myKey: "myValue" })).body.metadata).toEqual({ myKey: "myValue" });
  });

  it("answers 400 for a non-object or a body over 10 KB, 404 for an unknown task", async () => {
    const id = await newTask();
    expect((await c.post(`/v1/task/${id}/setMetadata`, ["a"])).status).toBe(400);
    expect((await c.post(`/v1/task/${id}/setMetadata`, { big: "x".repeat(11_000) })).status).toBe(400);
    expect((await c.post("/v1/task/000000000000000000000000/setMetadata", {})).status).toBe(404);
  });
});

describe("unique_id", () => {
  it("sets a new unique_id, frees the old one, and answers 409 when another task holds it", async () => {
    const a = await newTask(c, { unique_id: "ua" });
    const b = await newTask(c, { unique_id: "ub" });
    const updated = await c.post(`/v1/task/${a}/unique_id`, { unique_id: "ua2" });
    expect(updated.body.unique_id).toBe("ua2");
    expect((await c.get("/v1/tasks?unique_id=ua2")).body.docs[0].task_id).toBe(a);
    // The old value is free again.
    expect((await c.post(`/v1/task/${b}/unique_id`, { unique_id: "ua" })).status).toBe(200);
    const taken = await c.post(`/v1/task/${b}/unique_id`, { unique_id: "ua2" });
    expect(taken.status).toBe(409);
    expect(taken.body.error).toBe(`The unique_id ("ua2") is already used for a different task (${a}).`);
    // Setting a task's own unique_id again is fine.
    expect((await c.post(`/v1/task/${a}/unique_id`, { unique_id: "ua2" })).status).toBe(200);
  });

  it("answers 400 without a unique_id and 404 for an unknown task", async () => {
    const id = await newTask();
    expect((await c.post(`/v1/task/${id}/unique_id`, {})).status).toBe(400);
    expect((await c.post("/v1/task/000000000000000000000000/unique_id", { unique_id: "z" })).status).toBe(404);
    expect((await c.del("/v1/task/000000000000000000000000/unique_id")).status).toBe(404);
  });

  it("deletes the unique_id: the key disappears and the value can be used again", async () => {
    const id = await newTask(c, { unique_id: "to-clear" });
    const cleared = await c.del(`/v1/task/${id}/unique_id`);
    expect(cleared.status).toBe(200);
    expect(cleared.body).not.toHaveProperty("unique_id");
    expect((await c.post("/v1/task/imageannotation", { ...IMAGE_TASK, unique_id: "to-clear" })).status).toBe(200);
  });
});

describe("cancel", () => {
  it("cancels a pending task, answers it again on a second cancel, and can clear its unique_id", async () => {
    const id = await newTask(live, { unique_id: "cancel-me" });
    const canceled = await live.post(`/v1/task/${id}/cancel?clear_unique_id=true`);
    expect(canceled.status).toBe(200);
    expect(canceled.body.status).toBe("canceled");
    expect(canceled.body).not.toHaveProperty("unique_id");
    expect((await live.post(`/v1/task/${id}/cancel`)).body.status).toBe("canceled");
    expect((await live.post("/v1/task/imageannotation", { ...IMAGE_TASK, unique_id: "cancel-me" })).status).toBe(200);
  });

  it("answers 400 for a completed task (test tasks complete at once) and 404 for an unknown one", async () => {
    const id = await newTask();
    const answer = await c.post(`/v1/task/${id}/cancel`);
    expect(answer.status).toBe(400);
    expect(answer.body.status_code).toBe(400);
    expect((await c.post("/v1/task/000000000000000000000000/cancel")).status).toBe(404);
  });
});

describe("audit", () => {
  it("records accepted and rejected audits on completed tasks; 400 on pending ones or a bad body", async () => {
    const id = await newTask();
    const accepted = (await c.post(`/v1/task/${id}/audit`, { accepted: true })).body;
    expect(accepted.customer_review_status).toBe("accepted");
    expect(accepted.audits[0]).toMatchObject({ audit_result: "accepted", audit_source: "customer" });
    const rejected = (await c.post(`/v1/task/${id}/audit`, { accepted: false, comments: "no" })).body;
    expect(rejected.customer_review_status).toBe("rejected");
    expect(rejected.audits).toHaveLength(2);
    expect((await live.post(`/v1/task/${await newTask(live)}/audit`, { accepted: true })).status).toBe(400);
    expect((await c.post(`/v1/task/${id}/audit`, { accepted: "yes" })).status).toBe(400);
  });
});

describe("secure result URLs", () => {
  it("serves the result files a completed response points at, behind Basic auth", async () => {
    await c.post("/v1/projects", { name: "seg", type: "segmentannotation" });
    const task = (await c.post("/v1/task/segmentannotation", { project: "seg", attachment: "https://e.com/a.png", labels: ["road"] })).body;
    const url: string = task.response.annotations.combined.image;
    expect(url).toMatch(new RegExp(`^${sb.url}/v1/task/${task.task_id}/response_url/[0-9a-f-]{36}$`));
    const path = url.slice(sb.url.length);
    const file = await fetch(url, { headers: { authorization: `Basic ${Buffer.from("test_update:").toString("base64")}` } });
    expect(file.status).toBe(200);
    expect(file.headers.get("content-type")).toBe("image/png");
    expect((await sb.client(null).get(path)).status).toBe(401);
    expect((await c.get(`/v1/task/${task.task_id}/response_url/00000000-0000-0000-0000-000000000000`)).status).toBe(404);

    const lidar = (await c.post("/v1/task/lidarannotation", { attachments: ["https://e.com/f.json"], labels: ["car"] })).body;
    const doc = await c.get(lidar.response.annotations.url.slice(sb.url.length));
    expect(doc.status).toBe(200);
    expect(doc.body[0].cuboids[0].label).toBe("car");
  });
});
