import { beforeAll, describe, expect, it } from "vitest";
import { IMAGE_TASK, sandboxForFile } from "./helpers";

const sb = sandboxForFile({ keys: ["test_bp", "live_bp"] });
const c = sb.client("test_bp");
const live = sb.client("live_bp");

describe("projects", () => {
  it("creates a project with param history version 0; 409 for a taken name; 400 for a bad type or no name", async () => {
    const created = await c.post("/v1/projects", { name: "kittens", type: "imageannotation", params: { instruction: "Label kittens" } });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({ name: "kittens", type: "imageannotation", param_history: [{ instruction: "Label kittens", version: 0 }] });
    const taken = await c.post("/v1/projects", { name: "kittens", type: "imageannotation" });
    expect(taken.status).toBe(409);
    expect(taken.body.status_code).toBe(409);
    expect((await c.post("/v1/projects", { name: "x", type: "kittenannotation" })).status).toBe(400);
    expect((await c.post("/v1/projects", { type: "imageannotation" })).body.error).toBe('Parameter is invalid, reason: "name" is required');
    // The SDK sends params: null when none are given.
    expect((await c.post("/v1/projects", { name: "nullparams", type: "imageannotation", params: null })).status).toBe(200);
  });

  it("gets a project by (encoded) name, 404 when unknown", async () => {
    expect((await c.get("/v1/projects/kittens")).body.name).toBe("kittens");
    const missing = await c.get("/v1/projects/nope");
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ status_code: 404, error: "Project nope not found." });
  });

  it("lists projects as a bare array, honouring archived, limit and offset", async () => {
    const all = (await c.get("/v1/projects")).body;
    expect(Array.isArray(all)).toBe(true);
    expect(all.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(["kittens", "nullparams"]));
    expect((await c.get("/v1/projects?archived=True")).body).toEqual([]);
    expect((await c.get("/v1/projects?archived=false")).body).toHaveLength(all.length);
    expect((await c.get("/v1/projects?limit=1&offset=1")).body).toEqual([all[1]]);
  });

  it("appends params versions: replace by default, merge with patch; flat or nested params", async () => {
    const replaced = (await c.post("/v1/projects/kittens/setParams", { instruction: "New", padding: 2 })).body;
    expect(replaced.param_history).toHaveLength(2);
    expect(replaced.param_history[1]).toMatchObject({ instruction: "New", padding: 2, version: 1 });
    const patched = (await c.post("/v1/projects/kittens/setParams", { patch: true, params: { paddingX: 3 } })).body;
    expect(patched.param_history[2]).toMatchObject({ instruction: "New", padding: 2, paddingX: 3, version: 2 });
    const again = (await c.post("/v1/projects/kittens/setParams", { patch: false, instruction: "Only" })).body;
    expect(again.param_history[3]).not.toHaveProperty("padding");
    expect((await c.post("/v1/projects/nope/setParams", { instruction: "x" })).status).toBe(404);
    expect((await c.post("/v1/projects/kittens/setParams", { patch: "yes" })).status).toBe(400);
  });

  it("keeps ontology versions; 400 for duplicate choices or a bad body, 404 for an unknown project", async () => {
    const first = await c.post("/v1/projects/kittens/setOntology", { ontology: ["cat", { choice: "dog", subchoices: ["puppy"] }], name: "v-one" });
    expect(first.status).toBe(200);
    expect(first.body.ontologies[0]).toMatchObject({ version: 0, name: "v-one", ontology: ["cat", { choice: "dog", subchoices: ["puppy"] }] });
    const second = (await c.post("/v1/projects/kittens/setOntology", { ontology: ["cat"] })).body;
    expect(second.ontologies).toHaveLength(2);
    expect((await c.post("/v1/projects/kittens/setOntology", { ontology: ["cat", { choice: "x", subchoices: ["cat"] }] })).status).toBe(400);
    expect((await c.post("/v1/projects/kittens/setOntology", {})).status).toBe(400);
    expect((await c.post("/v1/projects/kittens/setOntology", { ontology: [{ description: "no choice" }] })).status).toBe(400);
    expect((await c.post("/v1/projects/nope/setOntology", { ontology: ["a"] })).status).toBe(404);
  });
});

describe("batches", () => {
  beforeAll(async () => {
    await c.post("/v1/projects", { name: "bp", type: "imageannotation" });
    await c.post("/v1/projects", { name: "studio-bp", type: "imageannotation", studio: true });
    await live.post("/v1/projects", { name: "bp", type: "imageannotation" });
  });

  it("creates a batch (404 unknown project, 409 taken name, 400 missing fields or bad callback)", async () => {
    expect((await c.post("/v1/batches", { name: "b-1", project: "nope" })).status).toBe(404);
    const created = await c.post("/v1/batches", { name: "b-1", project: "bp", callback: "https://example.com/cb", metadata: { a: 1 } });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({ name: "b-1", project: "bp", status: "in_progress", callback: "https://example.com/cb", metadata: { a: 1 } });
    const taken = await c.post("/v1/batches", { name: "b-1", project: "bp" });
    expect(taken.status).toBe(409);
    expect(taken.body).toEqual({ status_code: 409, error: "Batch with name b-1 already exists." });
    expect((await c.post("/v1/batches", { name: "b-2" })).body.error).toBe('Parameter is invalid, reason: "project" is required');
    expect((await c.post("/v1/batches", { name: "b-3", project: "bp", callback: "nope" })).status).toBe(400);
  });

  it("gets a batch, its status counts (zero counts left out) and 404 for unknown names", async () => {
    await live.post("/v1/batches", { name: "lb", project: "bp" });
    const a = (await live.post("/v1/task/imageannotation", { ...IMAGE_TASK, batch: "lb" })).body.task_id;
    await live.post("/v1/task/imageannotation", { ...IMAGE_TASK, batch: "lb" });
    const canceled = (await live.post("/v1/task/imageannotation", { ...IMAGE_TASK, batch: "lb" })).body.task_id;
    await live.post(`/v1/task/${canceled}/cancel`);
    await sb.client(null).post(`/sandbox/tasks/${a}/complete`);
    expect((await live.get("/v1/batches/lb/status")).body).toEqual({ status: "in_progress", pending: 1, completed: 1, canceled: 1 });
    expect((await live.get("/v1/batches/lb")).body).toMatchObject({ name: "lb", status: "in_progress", metadata: {} });
    expect((await live.get("/v1/batches/nope")).status).toBe(404);
    expect((await live.get("/v1/batches/nope/status")).status).toBe(404);
    // Completed once no task is pending.
    const tasks = (await live.get("/v1/tasks?batch=lb&status=pending")).body.docs;
    for (const t of tasks) await sb.client(null).post(`/sandbox/tasks/${t.task_id}/complete`);
    expect((await live.get("/v1/batches/lb/status")).body.status).toBe("completed");
  });

  it("finalizes: staging → in_progress for Studio/Rapid, a 200 no-op otherwise, 404 when unknown", async () => {
    const staged = (await c.post("/v1/batches", { name: "st-1", project: "studio-bp" })).body;
    expect(staged.status).toBe("staging");
    expect((await c.post("/v1/batches/st-1/finalize")).body.status).toBe("in_progress");
    expect((await c.post("/v1/batches/b-1/finalize")).body.status).toBe("in_progress");
    expect((await c.post("/v1/batches/nope/finalize")).status).toBe(404);
  });

  it("lists with offset paging across pages, newest first, with totalDocs and total; filters; 400 on bad params", async () => {
    for (let i = 0; i < 5; i++) await c.post("/v1/batches", { name: `page-${i}`, project: "bp" });
    const names: string[] = [];
    let offset = 0;
    let pages = 0;
    for (;;) {
      const page = (await c.get(`/v1/batches?project=bp&limit=2&offset=${offset}`)).body;
      expect(page.totalDocs).toBe(6);
      expect(page.total).toBe(6);
      expect(page.offset).toBe(offset);
      names.push(...page.docs.map((b: { name: string }) => b.name));
      pages += 1;
      if (!page.has_more) break;
      offset += page.limit;
    }
    expect(pages).toBe(3);
    expect(names).toEqual(["page-4", "page-3", "page-2", "page-1", "page-0", "b-1"]);
    expect((await c.get("/v1/batches?status=staging")).body.docs).toEqual([]);
    expect((await c.get("/v1/batches?project=studio-bp&status=in_progress")).body.docs).toHaveLength(1);
    expect((await c.get("/v1/batches?start_time=2999-01-01")).body.docs).toEqual([]);
    expect((await c.get("/v1/batches?end_time=2999-01-01&project=bp")).body.total).toBe(6);
    const detailed = (await live.get("/v1/batches?detailed=True")).body.docs[0];
    expect(detailed).toMatchObject({ name: "lb", completed: 2, canceled: 1 });
    expect((await c.get("/v1/batches?bogus=1")).status).toBe(400);
    expect((await c.get("/v1/batches?limit=500")).status).toBe(400);
    expect((await c.get("/v1/batches?status=finished")).status).toBe(400);
  });
});
