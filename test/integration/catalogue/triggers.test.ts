import type { FastifyInstance } from "fastify";
import Ajv2020 from "ajv/dist/2020";
import addFormats from "ajv-formats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestAppWithWorkspace, type TestApp } from "../../support/app";
import { startApiWithChangedManifest, type ManifestDoc as Doc } from "../../support/manifests";

let t: TestApp;
let key: { authorization: string };
beforeAll(async () => ({ t, key } = await createTestAppWithWorkspace()));
afterAll(() => t.close());

const get = (url: string, app: FastifyInstance = t.app) => app.inject({ method: "GET", url, headers: key });
const SCALE_TRIGGERS = ["SCALE_AI_BATCH_COMPLETED", "SCALE_AI_TASK_AUDITED", "SCALE_AI_TASK_COMPLETED", "SCALE_AI_TASK_ERRORED", "SCALE_AI_TASK_RECALLED"];

describe("GET /v1/triggers", () => {
  it("lists every trigger by slug, the platform's included, and filters by integration", async () => {
    const all = await get("/v1/triggers");
    expect(all.statusCode).toBe(200);
    expect(all.json()).toEqual({ triggers: expect.any(Array), next_cursor: null });
    expect(all.json().triggers.map((x: { slug: string }) => x.slug)).toEqual(["NAGENT_CONNECTION_STATUS_CHANGED", "NAGENT_SUBSCRIPTION_DISABLED", ...SCALE_TRIGGERS]);
    expect(all.json().triggers[0]).toEqual({ slug: "NAGENT_CONNECTION_STATUS_CHANGED", integration: "nagent", name: "Connection status changed", description: expect.any(String), group: "connections" });

    const scale = await get("/v1/triggers?integration=scale_ai");
    expect(scale.json().triggers.map((x: { slug: string }) => x.slug)).toEqual(SCALE_TRIGGERS);
    const platform = await get("/v1/triggers?integration=nagent");
    expect(platform.json().triggers.map((x: { slug: string }) => x.slug)).toEqual(["NAGENT_CONNECTION_STATUS_CHANGED", "NAGENT_SUBSCRIPTION_DISABLED"]);
    const unknown = await get("/v1/triggers?integration=nobody");
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.code).toBe("NOT_FOUND");
  });

  it("searches and pages with an opaque cursor; refuses a cursor it did not issue and bad limits", async () => {
    const found = await get("/v1/triggers?q=task%20recalled");
    expect(found.json().triggers.map((x: { slug: string }) => x.slug)).toEqual(["SCALE_AI_TASK_RECALLED"]);
    const first = (await get("/v1/triggers?limit=4")).json();
    expect(first.triggers).toHaveLength(4);
    const second = (await get(`/v1/triggers?limit=4&cursor=${first.next_cursor}`)).json();
    expect(second.next_cursor).toBeNull();
    expect([...first.triggers, ...second.triggers].map((x: { slug: string }) => x.slug)).toEqual(["NAGENT_CONNECTION_STATUS_CHANGED", "NAGENT_SUBSCRIPTION_DISABLED", ...SCALE_TRIGGERS]);

    const cursor = await get("/v1/triggers?cursor=bm90LW91cnM");
    expect(cursor.statusCode).toBe(400);
    expect(cursor.json().error.code).toBe("INVALID_CURSOR");
    for (const url of ["/v1/triggers?limit=0", "/v1/triggers?limit=101", `/v1/triggers?q=${"x".repeat(201)}`, "/v1/triggers?colour=red"]) {
      const res = await get(url);
      expect(res.statusCode, url).toBe(400);
      expect(res.json().error.code, url).toBe("VALIDATION_FAILED");
    }
  });

  it("needs an API key", async () => {
    for (const url of ["/v1/triggers", "/v1/triggers/SCALE_AI_TASK_COMPLETED", "/v1/triggers/SCALE_AI_TASK_COMPLETED/versions"]) {
      const res = await t.app.inject({ method: "GET", url });
      expect(res.statusCode, url).toBe(401);
    }
  });
});

describe("GET /v1/triggers/:slug", () => {
  it("answers the trigger with its bundled payload schema, examples, filters and schema version", async () => {
    const res = await get("/v1/triggers/SCALE_AI_TASK_COMPLETED");
    expect(res.statusCode).toBe(200);
    const { trigger } = res.json();
    expect(trigger).toMatchObject({ slug: "SCALE_AI_TASK_COMPLETED", integration: "scale_ai", name: "Task completed", group: "tasks", source: "callback", schema_version: 1 });
    expect(Object.keys(trigger).sort()).toEqual(["description", "examples", "filters", "group", "integration", "name", "payload_schema", "schema_version", "slug", "source"]);
    // Standalone: it carries the manifest definitions it reaches, and nothing else.
    expect(Object.keys(trigger.payload_schema.$defs).sort()).toEqual(["Task", "TaskAudit"]);
    expect(trigger.payload_schema.required).toEqual(["task_id", "task"]);
    expect(trigger.examples[0]).toMatchObject({ task_id: expect.any(String), task: { status: "completed", project: expect.any(String) } });
    expect(trigger.filters).toEqual({
      project: { description: expect.any(String), schema: { type: "string", maxLength: 256 }, path: "/task/project", match: "equal" },
      batch: { description: expect.any(String), schema: { type: "string", maxLength: 256 }, path: "/task/batch", match: "equal" },
      task_type: { description: expect.any(String), schema: { type: "string", maxLength: 64 }, path: "/task/type", match: "equal" },
      tags: { description: expect.any(String), schema: { type: "array", minItems: 1, maxItems: 20, items: { type: "string", maxLength: 256 } }, path: "/task/tags", match: "any" },
    });

    const platform = (await get("/v1/triggers/NAGENT_CONNECTION_STATUS_CHANGED")).json().trigger;
    expect(platform).toMatchObject({ integration: "nagent", source: "platform", schema_version: 1 });
    expect(Object.keys(platform.payload_schema.properties).sort()).toEqual(["changed_at", "connection_id", "from", "integration", "reason", "to"]);
  });

  it("answers 404 TRIGGER_NOT_FOUND for an unknown slug (an action's slug included) or version", async () => {
    for (const url of ["/v1/triggers/SCALE_AI_NOPE", "/v1/triggers/SCALE_AI_CREATE_BATCH", "/v1/triggers/SCALE_AI_NOPE/versions", "/v1/triggers/SCALE_AI_TASK_COMPLETED?version=9"]) {
      const res = await get(url);
      expect(res.statusCode, url).toBe(404);
      expect(res.json().error.code, url).toBe("TRIGGER_NOT_FOUND");
    }
    // Longer than any slug can be: refused before the route (the app's path-segment rule).
    const tooLong = await get(`/v1/triggers/${"A".repeat(300)}`);
    expect(tooLong.statusCode).toBe(414);
    expect(tooLong.json().error.code).toBe("URI_TOO_LONG");
  });
});

describe("trigger payload schema versions over HTTP", () => {
  it("lists version 1 after the first boot, then a classified version 2 after a manifest change; ?version=N answers either", async () => {
    const v1 = await get("/v1/triggers/SCALE_AI_BATCH_COMPLETED/versions");
    expect(v1.statusCode).toBe(200);
    expect(v1.json()).toEqual({
      trigger: "SCALE_AI_BATCH_COMPLETED",
      current_version: 1,
      versions: [{ version: 1, content_hash: expect.stringMatching(/^[0-9a-f]{64}$/), compatibility: null, changes: [], created_at: expect.any(String) }],
    });

    const other = await startChangedApi((doc) => {
      const batch = doc.triggers.find((x: Doc) => x.slug === "SCALE_AI_BATCH_COMPLETED");
      // A new required field: existing subscribers keep working.
      batch.payload.properties.finished_at = { type: "string", description: "When the last task ended." };
      batch.payload.required.push("finished_at");
      for (const example of batch.examples) example.finished_at = "2016-06-24T09:00:00.000Z";
    });
    for (const [app, current] of [[t.app, 1], [other, 2]] as const) {
      const body = (await get("/v1/triggers/SCALE_AI_BATCH_COMPLETED/versions", app)).json();
      expect(body.current_version).toBe(current);
      expect(body.versions.map((v: { version: number; compatibility: string | null }) => [v.version, v.compatibility])).toEqual([[2, "backward"], [1, null]]);
      expect(body.versions[0].changes).toEqual(expect.arrayContaining([expect.objectContaining({ path: "/payload/properties/finished_at", kind: "required_added", compatibility: "backward" })]));
    }
    const untouched = (await get("/v1/triggers/SCALE_AI_TASK_COMPLETED/versions")).json();
    expect(untouched.versions.map((v: { version: number }) => v.version)).toEqual([1]);

    const old = (await get("/v1/triggers/SCALE_AI_BATCH_COMPLETED")).json().trigger;
    expect(old.schema_version).toBe(1);
    expect(old.payload_schema.properties.finished_at).toBeUndefined();
    const newer = (await get("/v1/triggers/SCALE_AI_BATCH_COMPLETED?version=2")).json().trigger;
    expect(newer).toMatchObject({ schema_version: 2, slug: "SCALE_AI_BATCH_COMPLETED" });
    expect(newer.payload_schema.properties.finished_at).toEqual({ type: "string", description: "When the last task ended." });
    expect((await get("/v1/triggers/SCALE_AI_BATCH_COMPLETED", other)).json().trigger.payload_schema).toEqual(newer.payload_schema);
  });
});

describe("/openapi.json", () => {
  it("documents the trigger routes and carries every payload schema as a component, definitions hoisted", async () => {
    const doc = (await t.app.inject({ method: "GET", url: "/openapi.json" })).json();
    for (const path of ["/v1/triggers", "/v1/triggers/{slug}", "/v1/triggers/{slug}/versions"]) expect(doc.paths[path]?.get, path).toBeDefined();
    const schemas = doc.components.schemas;
    const completed = schemas["SCALE_AI_TASK_COMPLETED.payload"];
    expect(completed.properties.task.allOf[0]).toEqual({ $ref: "#/components/schemas/scale_ai.Task" });
    expect(completed.$defs).toBeUndefined();
    expect(schemas["scale_ai.TaskAudit"]).toBeDefined();
    expect(schemas["NAGENT_CONNECTION_STATUS_CHANGED.payload"].properties.to.enum).toEqual(["active", "degraded", "invalid"]);
    expect(doc.paths["/v1/triggers/{slug}"].get.description).toContain("#/components/schemas/SCALE_AI_BATCH_COMPLETED.payload");

    // The components work as schemas: each trigger's examples pass, a payload missing its required field fails.
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(ajv);
    ajv.addSchema(doc, "openapi.json");
    for (const { slug } of t.deps.registry.listTriggers()) {
      const validate = ajv.getSchema(`openapi.json#/components/schemas/${slug}.payload`)!;
      for (const example of t.deps.registry.getTrigger(slug)!.examples) expect(validate(example), slug).toBe(true);
      expect(validate({}), slug).toBe(false);
    }
  });
});

describe("POST /v1/flows/check with a trigger as the first step", () => {
  const check = (steps: unknown[]) => t.app.inject({ method: "POST", url: "/v1/flows/check", headers: key, payload: { steps } });
  const event = { id: "ev", trigger: "SCALE_AI_TASK_COMPLETED" };
  const addTags = (id: string, taskId: unknown) => ({ id, action: "SCALE_AI_ADD_TASK_TAGS", input: { task_id: taskId, tags: ["seen"] } });

  it("type-checks references to the event's fields against the payload schema", async () => {
    const valid = await check([event, addTags("t", { $ref: "steps.ev.data.task_id" }), addTags("u", { $ref: "steps.ev.data.task.task_id" })]);
    expect(valid.statusCode).toBe(200);
    expect(valid.json()).toEqual({ valid: true, errors: [], warnings: [] });
  });

  it("reports an unknown field and a type mismatch", async () => {
    const res = await check([event, addTags("t", { $ref: "steps.ev.data.task.no_such_field" }), addTags("u", { $ref: "steps.ev.data.task.priority" })]);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.valid).toBe(false);
    expect(body.errors).toEqual([
      { step: "t", path: "/task_id", message: expect.stringContaining("data.task.no_such_field is not in the payload of SCALE_AI_TASK_COMPLETED") },
      { step: "u", path: "/task_id", message: "steps.ev.data.task.priority is integer, but task_id expects string" },
    ]);
  });

  it("refuses a trigger that is not the first step, or an unknown trigger", async () => {
    const later = await check([addTags("t", "576ba74eec471ff9b01557cc"), event]);
    expect(later.statusCode).toBe(200);
    expect(later.json()).toMatchObject({ valid: false, errors: [{ step: "ev", path: "", message: expect.stringContaining("only be the first step") }] });
    const unknown = await check([{ id: "ev", trigger: "SCALE_AI_CREATE_BATCH" }]);
    expect(unknown.json()).toMatchObject({ valid: false, errors: [{ step: "ev", message: 'unknown trigger "SCALE_AI_CREATE_BATCH"' }] });
  });

  it("bounds trigger steps: no input, no action beside it, a bounded slug", async () => {
    for (const step of [{ ...event, input: {} }, { ...event, action: "SCALE_AI_GET_TEAMS" }, { id: "ev", trigger: "T".repeat(129) }, { id: "ev", trigger: "" }, { id: "ev", trigger: {} }]) {
      const res = await check([step]);
      expect(res.statusCode, JSON.stringify(step).slice(0, 80)).toBe(400);
      expect(res.json().error.code).toBe("VALIDATION_FAILED");
    }
  });
});

/** Another API process over the same database, serving the Scale AI manifest after `mutate` (as during a rolling deploy); closed when the test finishes. */
const startChangedApi = (mutate: (doc: Doc) => void) => startApiWithChangedManifest(t, mutate);
