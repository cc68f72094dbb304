import { beforeAll, describe, expect, it } from "vitest";
import { IMAGE_TASK, sandboxForFile } from "./helpers";

const KEY = "test_team";
const sb = sandboxForFile({ keys: [KEY] });
const c = sb.client(KEY);
const control = sb.client(null);

describe("teams", () => {
  it("lists the team (the world starts with its owner)", async () => {
    const team = (await c.get("/v1/teams")).body;
    expect(team).toEqual([
      { email: "owner@example.com", role: "admin", firstName: "Sandbox", lastName: "Owner", company: "Scale Sandbox", isStudioLabeler: false, disableRapidEmails: false },
    ]);
  });

  it("invites teammates, answering every teammate with invitees' expiry; 400 for a bad role or email", async () => {
    const answer = await c.post("/v1/teams/invite", { emails: ["ann@example.com", "bob@example.com"], team_role: "labeler" });
    expect(answer.status).toBe(200);
    expect(answer.body).toHaveLength(3);
    const ann = answer.body.find((m: { email: string }) => m.email === "ann@example.com");
    expect(ann).toMatchObject({ role: "labeler", isStudioLabeler: true });
    expect(Date.parse(ann.expiry)).toBeGreaterThan(Date.now());
    // Inviting again changes nothing.
    expect((await c.post("/v1/teams/invite", { emails: ["ann@example.com"], team_role: "member" })).body).toHaveLength(3);
    const badRole = await c.post("/v1/teams/invite", { emails: ["x@example.com"], team_role: "owner" });
    expect(badRole.status).toBe(400);
    expect(badRole.body.error).toBe('Parameter is invalid, reason: "team_role" must be one of [labeler, member, manager, admin]');
    expect((await c.post("/v1/teams/invite", { emails: ["not-an-email"], team_role: "member" })).status).toBe(400);
    expect((await c.post("/v1/teams/invite", { team_role: "member" })).status).toBe(400);
  });

  it("changes roles of teammates (set_role); 400 for strangers", async () => {
    expect((await c.post("/v1/teams/set_role", { emails: ["bob@example.com"], team_role: "manager" })).body.find((m: { email: string }) => m.email === "bob@example.com").role).toBe("manager");
    expect((await c.post("/v1/teams/set_role", { emails: ["zed@example.com"], team_role: "manager" })).status).toBe(400);
  });
});

describe("studio assignments", () => {
  beforeAll(async () => {
    await c.post("/v1/projects", { name: "s1", type: "imageannotation", studio: true });
    await c.post("/v1/projects", { name: "s2", type: "imageannotation", studio: true });
  });

  it("lists active teammates only; invitees count once accepted", async () => {
    expect(Object.keys((await c.get("/v1/studio/assignments")).body)).toEqual(["owner@example.com"]);
    // Invitees are not active: assigning them is refused until they accept.
    const refused = await c.post("/v1/studio/assignments/add", { emails: ["ann@example.com"], projects: ["s1"] });
    expect(refused.status).toBe(400);
    expect((await control.post(`/sandbox/keys/${KEY}/team/accept`, { emails: ["ann@example.com"] })).body).toEqual({ accepted: 1 });
    expect(Object.keys((await c.get("/v1/studio/assignments")).body)).toEqual(["owner@example.com", "ann@example.com"]);
  });

  it("adds and removes assignments, answering the map of all members; 400/404 for unknown people or projects", async () => {
    const added = await c.post("/v1/studio/assignments/add", { emails: ["ann@example.com", "owner@example.com"], projects: ["s1", "s2"] });
    expect(added.body).toEqual({ "owner@example.com": ["s1", "s2"], "ann@example.com": ["s1", "s2"] });
    expect((await c.post("/v1/studio/assignments/add", { emails: ["ann@example.com"], projects: ["s1"] })).body["ann@example.com"]).toEqual(["s1", "s2"]);
    const removed = await c.post("/v1/studio/assignments/remove", { emails: ["ann@example.com"], projects: ["s1"] });
    expect(removed.body).toEqual({ "owner@example.com": ["s1", "s2"], "ann@example.com": ["s2"] });
    // Without projects: unassign from all.
    expect((await c.post("/v1/studio/assignments/remove", { emails: ["owner@example.com"] })).body["owner@example.com"]).toEqual([]);
    expect((await c.post("/v1/studio/assignments/add", { emails: ["ann@example.com"], projects: ["nope"] })).status).toBe(404);
    expect((await c.post("/v1/studio/assignments/add", { emails: ["zed@example.com"], projects: ["s1"] })).status).toBe(400);
    expect((await c.post("/v1/studio/assignments/add", { emails: ["ann@example.com"] })).status).toBe(400);
    expect((await c.post("/v1/studio/assignments/remove", {})).status).toBe(400);
  });
});

describe("studio batches and priorities", () => {
  beforeAll(async () => {
    await c.post("/v1/batches", { name: "prod-a", project: "s1" });
    await c.post("/v1/batches", { name: "prod-b", project: "s1" });
    await c.post("/v1/batches", { name: "calib", project: "s2", calibration_batch: true });
  });
  const names = (list: { name: string }[]): string[] => list.map((b) => b.name);

  it("lists pending Studio batches, calibration first then by creation", async () => {
    const batches = (await c.get("/v1/studio/batches")).body;
    expect(names(batches)).toEqual(["calib", "prod-a", "prod-b"]);
    expect(batches[0]).toMatchObject({ projectName: "s2", batchType: "Calibration", studioPriority: 1, total: 0, completed: 0, groups: [] });
    expect(batches[0].id).toMatch(/^[0-9a-f]{24}$/);
  });

  it("sets a priority order naming every pending batch; 400 when one is missing, unknown or repeated", async () => {
    const set = await c.post("/v1/studio/batches/set_priorities", { batches: [{ name: "prod-b" }, { name: "calib" }, { name: "prod-a" }] });
    expect(set.status).toBe(200);
    expect(names(set.body)).toEqual(["prod-b", "calib", "prod-a"]);
    expect(names((await c.get("/v1/studio/batches")).body)).toEqual(["prod-b", "calib", "prod-a"]);
    expect((await c.post("/v1/studio/batches/set_priorities", { batches: [{ name: "prod-b" }, { name: "calib" }] })).status).toBe(400);
    expect((await c.post("/v1/studio/batches/set_priorities", { batches: [{ name: "prod-b" }, { name: "calib" }, { name: "prod-a" }, { name: "zzz" }] })).status).toBe(400);
    expect((await c.post("/v1/studio/batches/set_priorities", { batches: [{ name: "prod-b" }, { name: "prod-b" }, { name: "calib" }, { name: "prod-a" }] })).status).toBe(400);
    expect((await c.post("/v1/studio/batches/set_priorities", {})).status).toBe(400);
  });

  it("resets to the default order, with an empty body as the SDK sends it", async () => {
    const reset = await c.post("/v1/studio/batches/reset_priorities", undefined, { raw: "" });
    expect(names(reset.body)).toEqual(["calib", "prod-a", "prod-b"]);
  });
});

describe("quality labelers", () => {
  beforeAll(async () => {
    const attempts = Array.from({ length: 5 }, (_, i) => ({ labeler_email: i % 2 === 0 ? "ann@example.com" : "bob@example.com", quality_task_id: `q${i}`, score: i / 5 }));
    expect((await control.post(`/sandbox/keys/${KEY}/quality/attempts`, { attempts })).body).toEqual({ total: 5 });
  });

  it("filters by labeler_emails and quality_task_ids (repeated or comma-joined), paging with next_token", async () => {
    const ann = (await c.get("/v1/quality/labelers?labeler_emails=ann@example.com")).body;
    expect(ann.docs.map((d: { quality_task_id: string }) => d.quality_task_id)).toEqual(["q0", "q2", "q4"]);
    expect((await c.get("/v1/quality/labelers?quality_task_ids=q1,q2")).body.docs).toHaveLength(2);
    expect((await c.get("/v1/quality/labelers?quality_task_ids=q1&quality_task_ids=q3")).body.docs).toHaveLength(2);
    const first = (await c.get("/v1/quality/labelers?labeler_emails=ann@example.com,bob@example.com&limit=3")).body;
    expect(first.docs).toHaveLength(3);
    const second = (await c.get(`/v1/quality/labelers?labeler_emails=ann@example.com,bob@example.com&limit=3&next_token=${first.next_token}`)).body;
    expect(second.docs).toHaveLength(2);
    expect(second.next_token).toBeNull();
  });

  it("answers 400 without either filter, or with a bad next_token", async () => {
    expect((await c.get("/v1/quality/labelers")).status).toBe(400);
    expect((await c.get("/v1/quality/labelers?labeler_emails=a@b.c&next_token=bad")).status).toBe(400);
  });
});

describe("fixless audits", () => {
  it("lists a task's audits by task_id, or one audit by id, at both paths", async () => {
    const id = (await c.post("/v1/task/imageannotation", IMAGE_TASK)).body.task_id;
    await c.post(`/v1/task/${id}/audit`, { accepted: true });
    await c.post(`/v1/task/${id}/audit`, { accepted: false, comments: "missed a cat" });
    for (const path of ["/v1/audits", "/v1/fixless_audits"]) {
      const docs = (await c.get(`${path}?task_id=${id}`)).body.docs;
      expect(docs.map((a: { audit_result: string }) => a.audit_result)).toEqual(["accepted", "rejected"]);
      expect(docs[1]).toMatchObject({ task_id: id, audited_by: "owner@example.com", audit_source: "customer", comments: "missed a cat" });
      const one = (await c.get(`${path}?id=${docs[1].id}`)).body.docs;
      expect(one).toEqual([docs[1]]);
    }
  });

  it("answers 400 without id or task_id, 404 for an unknown task or audit", async () => {
    expect((await c.get("/v1/audits")).status).toBe(400);
    expect((await c.get("/v1/audits?task_id=000000000000000000000000")).status).toBe(404);
    expect((await c.get("/v1/fixless_audits?id=000000000000000000000000")).status).toBe(404);
  });
});
