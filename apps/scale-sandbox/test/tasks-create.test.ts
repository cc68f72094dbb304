import { beforeAll, describe, expect, it } from "vitest";
import { IMAGE_TASK, sandboxForFile } from "./helpers";

const sb = sandboxForFile({ keys: ["test_create"] });
const c = sb.client("test_create");

const geometries = { box: { objects_to_annotate: ["car"] } };

/** A valid body per task type, with the fields Scale requires. */
const VALID: Record<string, Record<string, unknown>> = {
  imageannotation: IMAGE_TASK,
  segmentannotation: { attachment: "https://example.com/a.png", labels: ["road", { choice: "car" }] },
  lidarannotation: { attachments: ["https://example.com/f0.json", "https://example.com/f1.json"], labels: ["car"] },
  lidarsegmentation: { project: "seg-lidar", attachments: ["https://example.com/f0.json"], labels: ["ground"] },
  namedentityrecognition: { text: "Ada Lovelace wrote programs.", labels: [{ name: "PERSON" }] },
  documenttranscription: { attachment: "https://example.com/invoice.pdf", features: [{ type: "text", label: "total" }] },
  textcollection: { fields: [{ type: "text", field_id: "summary", title: "Summary" }], attachments: [{ type: "text", content: "hello" }] },
  videoannotation: { attachment_type: "video", attachment: "https://example.com/v.mp4", geometries },
  videoplaybackannotation: { attachment: "https://example.com/v.mp4", geometries },
};

describe("POST /v1/task/:type, success", () => {
  beforeAll(async () => {
    await c.post("/v1/projects", { name: "seg-lidar", type: "lidarsegmentation" });
  });

  it.each(Object.entries(VALID))("creates a %s task shaped as Scale's task object", async (type, body) => {
    const answer = await c.post(`/v1/task/${type}`, { ...body, instruction: "Do it", metadata: { k: "v" }, tags: ["t1"], priority: 20 });
    expect(answer.status).toBe(200);
    const task = answer.body;
    expect(task.task_id).toMatch(/^[0-9a-f]{24}$/);
    expect(task.type).toBe(type);
    expect(Number.isNaN(Date.parse(task.created_at))).toBe(false);
    expect(task.created_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(task).toMatchObject({ instruction: "Do it", metadata: { k: "v" }, tags: ["t1"], priority: 20, is_test: true });
    // Type inputs are echoed under params, common fields stay top-level.
    for (const [name, value] of Object.entries(body)) if (name !== "project") expect(task.params[name]).toEqual(value);
    expect(task.params).not.toHaveProperty("metadata");
    expect(task.params).not.toHaveProperty("tags");
    // A test key's task completes at once, with a response.
    expect(task.status).toBe("completed");
    expect(task.response).toBeTypeOf("object");
  });

  it("fills Scale's defaults: priority 30, metadata {}, no tags key, type defaults in params", async () => {
    const task = (await c.post("/v1/task/documenttranscription", { attachments: ["https://e.com/1.png", "https://e.com/2.png"] })).body;
    expect(task.priority).toBe(30);
    expect(task.metadata).toEqual({});
    expect(task).not.toHaveProperty("tags");
    expect(task).not.toHaveProperty("unique_id");
    expect(task.params).toMatchObject({ lang: "en-US", geometry: "box", responses_required: 1 });
    expect(task.document_pages).toHaveLength(2);
    const playback = (await c.post("/v1/task/videoplaybackannotation", VALID["videoplaybackannotation"])).body;
    expect(playback.params).toMatchObject({ frame_rate: 1, attachment_type: "video" });
  });

  it("keeps unknown parameters, echoed under params", async () => {
    const task = (await c.post("/v1/task/imageannotation", { ...IMAGE_TASK, some_new_flag: true })).body;
    expect(task.params.some_new_flag).toBe(true);
  });

  it("takes the project from the batch when only the batch is given", async () => {
    await c.post("/v1/projects", { name: "by-batch", type: "imageannotation" });
    await c.post("/v1/batches", { name: "by-batch-1", project: "by-batch" });
    const task = (await c.post("/v1/task/imageannotation", { ...IMAGE_TASK, batch: "by-batch-1" })).body;
    expect(task).toMatchObject({ project: "by-batch", batch: "by-batch-1" });
  });

  it("inherits project params (instruction appended, priority, type params) and records the version", async () => {
    await c.post("/v1/projects", { name: "inherit", type: "imageannotation", params: { instruction: "Project rules", padding: 5 } });
    await c.post("/v1/projects/inherit/setParams", { patch: true, priority: 10 });
    const task = (await c.post("/v1/task/imageannotation", { ...IMAGE_TASK, project: "inherit", instruction: "Task rules" })).body;
    expect(task.instruction).toBe("Task rules\n\nProject rules");
    expect(task.priority).toBe(10);
    expect(task.params.padding).toBe(5);
    expect(task.project_param_version).toBe(1);
    const own = (await c.post("/v1/task/imageannotation", { ...IMAGE_TASK, project: "inherit", padding: 9, project_version: -1 })).body;
    expect(own.params.padding).toBe(9);
    expect(own.priority).toBe(30);
    expect(own).not.toHaveProperty("project_param_version");
    const v0 = (await c.post("/v1/task/imageannotation", { ...IMAGE_TASK, project: "inherit", project_version: 0 })).body;
    expect(v0.priority).toBe(30);
    expect(v0.project_param_version).toBe(0);
  });

  it("starts a lidar segmentation from a completed lidar annotation task", async () => {
    const lidar = (await c.post("/v1/task/lidarannotation", VALID["lidarannotation"])).body;
    const seg = await c.post("/v1/task/lidarsegmentation", { project: "seg-lidar", labels: ["ground"], lidar_task: lidar.task_id });
    expect(seg.status).toBe(200);
    const bad = await c.post("/v1/task/lidarsegmentation", { project: "seg-lidar", labels: ["ground"], lidar_task: "000000000000000000000000" });
    expect(bad.status).toBe(400);
  });
});

describe("POST /v1/task/:type, documented errors", () => {
  const expect400 = async (type: string, body: unknown, message: string | RegExp): Promise<void> => {
    const answer = await c.post(`/v1/task/${type}`, body);
    expect(answer.status).toBe(400);
    expect(answer.body.status_code).toBe(400);
    if (typeof message === "string") expect(answer.body.error).toBe(message);
    else expect(answer.body.error).toMatch(message);
  };

  it("answers 400 for each missing required field, per type", async () => {
    const required: [string, string][] = [
      ["imageannotation", "attachment"],
      ["imageannotation", "geometries"],
      ["segmentannotation", "attachment"],
      ["segmentannotation", "labels"],
      ["lidarannotation", "attachments"],
      ["lidarannotation", "labels"],
      ["lidarsegmentation", "labels"],
      ["namedentityrecognition", "text"],
      ["namedentityrecognition", "labels"],
      ["textcollection", "fields"],
      ["textcollection", "attachments"],
      ["videoannotation", "geometries"],
      ["videoplaybackannotation", "geometries"],
      ["videoplaybackannotation", "attachment"],
    ];
    for (const [type, field] of required) {
      const body = { ...VALID[type] };
      delete body[field];
      await expect400(type, body, `Parameter is invalid, reason: "${field}" is required`);
    }
  });

  it("answers 400 when neither attachment nor attachments is given", async () => {
    await expect400("documenttranscription", { features: [] }, "Please include an attachment or attachments parameter.");
    await expect400("videoannotation", { geometries }, "Please include an attachment or attachments parameter.");
  });

  it("answers 400 for video rules on attachment_type", async () => {
    await expect400("videoannotation", { attachment_type: "image", attachment: "https://e.com/v.mp4", geometries }, /"attachments" is required/);
    await expect400("videoannotation", { attachment_type: "video", attachment: "https://e.com/v.mp4", attachments: ["x"], geometries }, /"attachments" is not allowed/);
    await expect400("lidarsegmentation", { labels: ["g"], attachments: ["https://e.com/f.json"] }, "Please include a project or batch parameter.");
  });

  it("answers 400 for more than 5 tags, metadata over 10 KB, bad types and unknown geometries", async () => {
    await expect400("imageannotation", { ...IMAGE_TASK, tags: ["1", "2", "3", "4", "5", "6"] }, 'Parameter is invalid, reason: "tags" must contain less than or equal to 5 items');
    await expect400("imageannotation", { ...IMAGE_TASK, metadata: { blob: "x".repeat(10 * 1024) } }, /"metadata" must be less than or equal to 10KB/);
    await expect400("imageannotation", { ...IMAGE_TASK, metadata: ["not", "an", "object"] }, /"metadata" must be of type object/);
    await expect400("imageannotation", { ...IMAGE_TASK, priority: "high" }, /"priority" must be an integer/);
    await expect400("imageannotation", { ...IMAGE_TASK, geometries: { circle: {} } }, /"geometries.circle" is not allowed/);
    await expect400("imageannotation", { ...IMAGE_TASK, geometries: {} }, /"geometries" must have at least 1 key/);
    await expect400("imageannotation", { ...IMAGE_TASK, geometries: { box: {} } }, /"geometries.box.objects_to_annotate" is required/);
    await expect400("lidarannotation", { ...VALID["lidarannotation"], attachment_type: "xml" }, /"attachment_type" must be one of \[json, protobuf\]/);
    await expect400("imageannotation", { ...IMAGE_TASK, callback_url: "not a url" }, /"callback_url" must be a valid uri or email address/);
    await expect400("imageannotation", ["not", "an", "object"], /"value" must be of type object/);
    await expect400("segmentannotation", { ...VALID["segmentannotation"], labels: Array.from({ length: 51 }, (_, i) => `l${i}`) }, /"labels" must contain less than or equal to 50 items/);
  });

  it("answers 400 for an unknown task type, and for a project of another type", async () => {
    await expect400("kittens", IMAGE_TASK, /"type" must be one of/);
    await c.post("/v1/projects", { name: "texts", type: "textcollection" });
    await expect400("imageannotation", { ...IMAGE_TASK, project: "texts" }, /is a textcollection project/);
  });

  it("answers 404 for an unknown project or batch", async () => {
    const project = await c.post("/v1/task/imageannotation", { ...IMAGE_TASK, project: "nope" });
    expect(project.status).toBe(404);
    expect(project.body).toEqual({ status_code: 404, error: "Project nope not found." });
    expect((await c.post("/v1/task/imageannotation", { ...IMAGE_TASK, batch: "nope" })).status).toBe(404);
  });

  it("answers 400 when adding to a finalized Rapid batch, not while it is staged", async () => {
    await c.post("/v1/projects", { name: "rapid", type: "imageannotation", rapid: true });
    await c.post("/v1/batches", { name: "rapid-1", project: "rapid" });
    expect((await c.post("/v1/task/imageannotation", { ...IMAGE_TASK, batch: "rapid-1" })).status).toBe(200);
    await c.post("/v1/batches/rapid-1/finalize");
    await expect400("imageannotation", { ...IMAGE_TASK, batch: "rapid-1" }, /has been finalized/);
  });

  it("answers 409 with Scale's message for a reused unique_id, across projects and task types", async () => {
    const first = (await c.post("/v1/task/imageannotation", { ...IMAGE_TASK, unique_id: "s3://bucket/file.png" })).body;
    const again = await c.post("/v1/task/namedentityrecognition", { ...VALID["namedentityrecognition"], unique_id: "s3://bucket/file.png" });
    expect(again.status).toBe(409);
    expect(again.body).toEqual({
      status_code: 409,
      error: `The unique_id ("s3://bucket/file.png") is already used for a different task (${first.task_id}).`,
    });
  });

  it("answers 409 when an Idempotency-Key is replayed, and creates nothing", async () => {
    const headers = { "idempotency-key": "0b9c3f5e-2f43-4c1e-9d0a-6f1c1f1f1f1f" };
    const first = await c.post("/v1/task/imageannotation", IMAGE_TASK, { headers });
    expect(first.status).toBe(200);
    const before = (await c.get("/v1/tasks?limit=1")).body.total;
    const replay = await c.post("/v1/task/imageannotation", IMAGE_TASK, { headers });
    expect(replay.status).toBe(409);
    expect(replay.body.error).toContain(first.body.task_id);
    expect((await c.get("/v1/tasks?limit=1")).body.total).toBe(before);
  });
});
