import { beforeAll, describe, expect, it } from "vitest";
import { IMAGE_TASK, sandboxForFile } from "./helpers";

const sb = sandboxForFile({ keys: ["test_list", "live_list"] });
const c = sb.client("test_list");

interface Page {
  docs: { task_id: string; created_at: string; [k: string]: unknown }[];
  total: number;
  limit: number;
  offset: number;
  has_more: boolean;
  next_token: string | null;
}

async function createTasks(n: number, extra: Record<string, unknown> = {}): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push((await c.post("/v1/task/imageannotation", { ...IMAGE_TASK, ...extra })).body.task_id);
  return ids;
}

describe("GET /v1/tasks paging", () => {
  it("pages through every task, newest first, with next_token, and stays exact when tasks are added between pages", async () => {
    await c.post("/v1/projects", { name: "paging", type: "imageannotation" });
    const created = await createTasks(7, { project: "paging" });
    const seen: string[] = [];
    let token: string | null = null;
    let pages = 0;
    let added = 0;
    do {
      const answer: { status: number; body: Page } = await c.get(`/v1/tasks?project=paging&limit=3${token ? `&next_token=${token}` : ""}`);
      expect(answer.status).toBe(200);
      const page = answer.body;
      // The newer task counts in total and before the cursor (offset) but never shifts the pages after it.
      expect(page).toMatchObject({ total: 7 + added, limit: 3, offset: seen.length + added });
      seen.push(...page.docs.map((d) => d.task_id));
      token = page.next_token;
      expect(page.has_more).toBe(token !== null);
      pages += 1;
      if (pages === 1) {
        await createTasks(1, { project: "paging" });
        added = 1;
      }
    } while (token !== null);
    expect(pages).toBe(3);
    expect(seen).toEqual([...created].reverse());
  });

  it("sorts by created_at descending", async () => {
    const docs = (await c.get<Page>("/v1/tasks?limit=100")).body.docs;
    const times = docs.map((d) => Date.parse(d.created_at));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
  });

  it("answers 400 for an unknown parameter, a bad limit and a bad next_token", async () => {
    const unknown = await c.get("/v1/tasks?foo=bar");
    expect(unknown.status).toBe(400);
    expect(unknown.body).toEqual({ status_code: 400, error: 'Parameter is invalid, reason: "foo" is not allowed' });
    expect((await c.get("/v1/tasks?limit=0")).status).toBe(400);
    expect((await c.get("/v1/tasks?limit=101")).status).toBe(400);
    expect((await c.get("/v1/tasks?limit=ten")).status).toBe(400);
    expect((await c.get("/v1/tasks?next_token=nonsense")).status).toBe(400);
    expect((await c.get("/v1/tasks?status=done")).status).toBe(400);
    expect((await c.get("/v1/tasks?start_time=yesterday")).status).toBe(400);
    expect((await c.get("/v1/tasks?customer_review_status=great")).status).toBe(400);
  });
});

describe("GET /v1/tasks filters", () => {
  let tagged: string[];
  beforeAll(async () => {
    await c.post("/v1/projects", { name: "filters", type: "imageannotation" });
    await c.post("/v1/projects", { name: "ner", type: "namedentityrecognition" });
    await c.post("/v1/batches", { name: "filters batch", project: "filters" });
    tagged = await createTasks(2, { project: "filters", tags: ["red", "blue"] });
    await createTasks(1, { project: "filters", tags: ["green"], batch: "filters batch", unique_id: "uid-a" });
    await c.post("/v1/task/namedentityrecognition", { project: "ner", text: "x y", labels: [{ name: "P" }], unique_id: "uid-b" });
  });

  const ids = async (query: string): Promise<string[]> => {
    const answer = await c.get<Page>(`/v1/tasks?${query}`);
    expect(answer.status).toBe(200);
    return answer.body.docs.map((d) => d.task_id);
  };

  it("filters by project, type, batch (with + for spaces), tags (repeated keys), unique_id (repeated keys)", async () => {
    expect(await ids("project=filters")).toHaveLength(3);
    expect(await ids("project=ner&type=namedentityrecognition")).toHaveLength(1);
    expect(await ids("project=filters&type=namedentityrecognition")).toHaveLength(0);
    expect(await ids("batch=filters+batch")).toHaveLength(1);
    expect(await ids("project=filters&tags=red")).toEqual([...tagged].reverse());
    expect(await ids("project=filters&tags=red&tags=green")).toHaveLength(3);
    expect(await ids("unique_id=uid-a&unique_id=uid-b")).toHaveLength(2);
    expect(await ids("unique_id=uid-b")).toHaveLength(1);
  });

  it("filters by status, created/updated/completed time ranges, in ISO and the Python SDK's format", async () => {
    expect(await ids("project=filters&status=completed")).toHaveLength(3);
    expect(await ids("project=filters&status=pending")).toHaveLength(0);
    const future = "2999-01-01";
    const past = "2000-01-01 00:00:00.000000";
    expect(await ids(`project=filters&start_time=${future}`)).toHaveLength(0);
    expect(await ids(`project=filters&start_time=${encodeURIComponent(past)}&end_time=${future}`)).toHaveLength(3);
    expect(await ids(`project=filters&created_after=${past}&created_before=${future}`)).toHaveLength(3);
    expect(await ids(`project=filters&updated_after=${future}`)).toHaveLength(0);
    expect(await ids(`project=filters&updated_before=${future}`)).toHaveLength(3);
    expect(await ids(`project=filters&completed_after=${encodeURIComponent("2000-01-01T00:00:00+02:00")}`)).toHaveLength(3);
    expect(await ids(`project=filters&completed_before=${past}`)).toHaveLength(0);
  });

  it("filters by customer_review_status, comma-joined", async () => {
    const [first, second] = tagged as [string, string];
    await c.post(`/v1/task/${first}/audit`, { accepted: true });
    await c.post(`/v1/task/${second}/audit`, { accepted: false, comments: "wrong box" });
    expect(await ids("customer_review_status=accepted")).toEqual([first]);
    expect(await ids("customer_review_status=rejected")).toEqual([second]);
    expect(await ids("customer_review_status=accepted,rejected")).toHaveLength(2);
    expect(await ids("project=filters&customer_review_status=pending")).toHaveLength(1);
  });

  it("takes booleans as true/false and Python's True/False; limited_response keeps four fields", async () => {
    const limited = (await c.get<Page>("/v1/tasks?project=filters&limited_response=True&include_attachment_url=False")).body.docs[0];
    expect(Object.keys(limited ?? {}).sort()).toEqual(["metadata", "project", "status", "task_id"]);
    const full = (await c.get<Page>("/v1/tasks?project=filters&limited_response=false&include_attachment_url=true")).body.docs[0];
    expect(full).toHaveProperty("params");
    expect((await c.get("/v1/tasks?limited_response=yes")).status).toBe(400);
  });

  it("lists only the key's own world", async () => {
    expect((await sb.client("live_list").get<Page>("/v1/tasks")).body.total).toBe(0);
  });
});
