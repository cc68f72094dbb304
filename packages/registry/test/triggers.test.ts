import { afterAll, describe, expect, it } from "vitest";
import { checkManifestDirectory, formatProblem, INTEGRATIONS_DIR, InvalidCursorError, loadRegistry, PLATFORM_TRIGGERS, UnknownTriggerError, type ManifestProblem } from "@nagent/registry";
import { brokenDemo, expectRefused, removeTemporaryDirectories, VALID_DIR, type BrokenCase, type Doc } from "./manifest-fixtures";

afterAll(removeTemporaryDirectories);

const registry = loadRegistry(VALID_DIR);
const taskDone = (d: Doc): Doc => d.triggers[0];

function problemsOf(dir: string): ManifestProblem[] {
  return [...checkManifestDirectory(dir).problems];
}

/**
 * Each broken manifest differs from the valid fixture by one mistake in its triggers, and must be refused for that
 * mistake alone: the one pointer (and trigger) every problem carries.
 */
const cases: BrokenCase[] = [
  { name: "trigger without examples", mutate: (d) => delete taskDone(d).examples, pointer: "/triggers/0/examples", trigger: "DEMO_TASK_DONE", message: /is required/ },
  { name: "trigger with no example at all", mutate: (d) => (taskDone(d).examples = []), pointer: "/triggers/0/examples", trigger: "DEMO_TASK_DONE", message: /at least 1 item/ },
  { name: "bad trigger slug", mutate: (d) => (taskDone(d).slug = "demo_task_done"), pointer: "/triggers/0/slug", trigger: "demo_task_done", message: /pattern/ },
  { name: "unknown source", mutate: (d) => (taskDone(d).source = "webhook"), pointer: "/triggers/0/source", trigger: "DEMO_TASK_DONE", message: /must be one of/ },
  { name: "unknown trigger field", mutate: (d) => (taskDone(d).colour = "red"), pointer: "/triggers/0/colour", trigger: "DEMO_TASK_DONE", message: /not an allowed property/ },
  { name: "payload that is not an object schema", mutate: (d) => (taskDone(d).payload.type = "array"), pointer: "/triggers/0/payload/type", trigger: "DEMO_TASK_DONE", message: /must be "object"/ },
  { name: "combinator at the top of a payload", mutate: (d) => (taskDone(d).payload.anyOf = [{ required: ["task"] }, { required: ["score"] }]), pointer: "/triggers/0/payload", trigger: "DEMO_TASK_DONE", message: /not allowed/ },
  { name: "bad filter name", mutate: (d) => (taskDone(d).filters.Status = taskDone(d).filters.status), pointer: "/triggers/0/filters", trigger: "DEMO_TASK_DONE", message: /property name|pattern/ },
  { name: "filter path that is not a JSON pointer", mutate: (d) => (taskDone(d).filters.status.path = "task.status"), pointer: "/triggers/0/filters/status/path", trigger: "DEMO_TASK_DONE", message: /pattern/ },
  { name: "trigger slug that is an action's", mutate: (d) => (taskDone(d).slug = "DEMO_CREATE_BATCH"), pointer: "/triggers/0/slug", trigger: "DEMO_CREATE_BATCH", message: /already an action's slug/ },
  { name: "duplicate trigger slug", mutate: (d) => (d.triggers[1].slug = "DEMO_TASK_DONE"), pointer: "/triggers/1/slug", trigger: "DEMO_TASK_DONE", message: /duplicate trigger slug DEMO_TASK_DONE/ },
  { name: "platform trigger slug", mutate: (d) => (d.triggers[1].slug = "NAGENT_CONNECTION_STATUS_CHANGED"), pointer: "/triggers/1/slug", trigger: "NAGENT_CONNECTION_STATUS_CHANGED", message: /platform trigger/ },
  { name: "filter path the payload does not declare", mutate: (d) => (taskDone(d).filters.status.path = "/task/state"), pointer: "/triggers/0/filters/status/path", trigger: "DEMO_TASK_DONE", message: /\/task\/state is not in the payload: "state" is not declared/ },
  { name: "filter whose type the property cannot hold", mutate: (d) => (taskDone(d).filters.status.schema = { type: "integer" }), pointer: "/triggers/0/filters/status/schema", trigger: "DEMO_TASK_DONE", message: /the filter is integer, but \/task\/status in the payload is string/ },
  { name: "number filter on an integer property", mutate: (d) => (taskDone(d).filters.reviewer = { description: "r", schema: { type: "number" }, path: "/reviewers/0" }), pointer: "/triggers/0/filters/reviewer/schema", trigger: "DEMO_TASK_DONE", message: /the filter is number, but \/reviewers\/0 in the payload is integer/ },
  { name: "equality filter on an array", mutate: (d) => delete taskDone(d).filters.tags.match, pointer: "/triggers/0/filters/tags/schema", trigger: "DEMO_TASK_DONE", message: /equality filter's value must be a string.*"match": "any"/ },
  { name: "equality filter on an object", mutate: (d) => (taskDone(d).filters.batch = { description: "b", schema: { type: "object", maxProperties: 2 }, path: "/task/batch" }), pointer: "/triggers/0/filters/batch/schema", trigger: "DEMO_TASK_DONE", message: /equality filter's value must be a string/ },
  { name: "any filter on a property that is not an array", mutate: (d) => (taskDone(d).filters.tags.path = "/task/status"), pointer: "/triggers/0/filters/tags/match", trigger: "DEMO_TASK_DONE", message: /needs an array in the payload, and \/task\/status is string/ },
  { name: "any filter that is not an array", mutate: (d) => (taskDone(d).filters.status.match = "any"), pointer: "/triggers/0/filters/status/schema", trigger: "DEMO_TASK_DONE", message: /an "any" filter's value must be an array/ },
  { name: "any filter whose items the property's items cannot be", mutate: (d) => (taskDone(d).filters.tags.schema.items = { type: "integer" }), pointer: "/triggers/0/filters/tags/schema", trigger: "DEMO_TASK_DONE", message: /items are integer, but the items of \/task\/tags in the payload are string/ },
  { name: "unbounded filter string", mutate: (d) => delete taskDone(d).filters.status.schema.maxLength, pointer: "/triggers/0/filters/status/schema", trigger: "DEMO_TASK_DONE", message: /string without maxLength.*subscriber's input/ },
  { name: "unbounded filter array", mutate: (d) => delete taskDone(d).filters.tags.schema.maxItems, pointer: "/triggers/0/filters/tags/schema", trigger: "DEMO_TASK_DONE", message: /array without maxItems/ },
  { name: "example that does not match the payload", mutate: (d) => (taskDone(d).examples[1].score = "high"), pointer: "/triggers/0/examples/1/score", trigger: "DEMO_TASK_DONE", message: /example does not match the payload schema: score must be a number/ },
  { name: "example missing a required field", mutate: (d) => delete taskDone(d).examples[0].task.status, pointer: "/triggers/0/examples/0/task/status", trigger: "DEMO_TASK_DONE", message: /status is required/ },
  { name: "unknown keyword in a payload (typo)", mutate: (d) => (taskDone(d).payload.properties.score.minimun = 0), pointer: "/triggers/0/payload/properties/score/minimun", trigger: "DEMO_TASK_DONE", message: /unknown keyword "minimun"/ },
  { name: "unknown keyword in a filter schema", mutate: (d) => (taskDone(d).filters.status.schema.maxLenght = 3), pointer: "/triggers/0/filters/status/schema/maxLenght", trigger: "DEMO_TASK_DONE", message: /unknown keyword "maxLenght"/ },
  { name: "payload $ref that does not resolve", mutate: (d) => (d.triggers[1].payload.properties.batch = { $ref: "#/$defs/Batchh" }), pointer: "/triggers/1/payload/properties/batch/$ref", trigger: "DEMO_BATCH_DONE", message: /does not resolve/ },
  { name: "payload required name missing from properties (ajv strict)", mutate: (d) => taskDone(d).payload.required.push("scroe"), pointer: "/triggers/0/payload", trigger: "DEMO_TASK_DONE", message: /does not compile.*scroe/ },
];

describe("trigger checks: each broken manifest is refused for its own reason", () => {
  it.each(cases)("$name", expectRefused);

  it("names the trigger in the printed problem", () => {
    const [problem] = problemsOf(brokenDemo((d) => (taskDone(d).filters.status.path = "/task/state")));
    expect(formatProblem(problem!)).toMatch(/demo_app\/manifest\.json: DEMO_TASK_DONE: \/triggers\/0\/filters\/status\/path: /);
  });

  it("accepts a manifest without triggers", () => {
    expect(problemsOf(brokenDemo((d) => delete d.triggers))).toEqual([]);
  });
});

describe("the repository's triggers", () => {
  const real = loadRegistry(INTEGRATIONS_DIR);

  it("has the Scale AI triggers of issue 12 and the platform's, each with filters and a valid first example", () => {
    expect(real.listTriggers("scale_ai").map((t) => t.slug)).toEqual(["SCALE_AI_BATCH_COMPLETED", "SCALE_AI_TASK_AUDITED", "SCALE_AI_TASK_COMPLETED", "SCALE_AI_TASK_ERRORED", "SCALE_AI_TASK_RECALLED"]);
    expect(real.listTriggers("nagent").map((t) => t.slug)).toEqual(["NAGENT_CONNECTION_STATUS_CHANGED", "NAGENT_SUBSCRIPTION_DISABLED"]);
    for (const { slug } of real.listTriggers()) {
      const trigger = real.getTrigger(slug)!;
      expect(real.validateTriggerPayload(slug, trigger.examples[0]), slug).toEqual({ valid: true });
    }
    for (const slug of ["SCALE_AI_TASK_COMPLETED", "SCALE_AI_TASK_ERRORED", "SCALE_AI_TASK_AUDITED", "SCALE_AI_TASK_RECALLED"]) {
      const trigger = real.getTrigger(slug)!;
      expect(Object.keys(trigger.filters).sort(), slug).toEqual(["batch", "project", "tags", "task_type"]);
      expect(trigger.filters["tags"]!.match).toBe("any");
      // The payload is the Scale callback body {task, response, task_id}, the task being the manifest's Task.
      expect(Object.keys((trigger.payload_schema as { $defs: object }).$defs).sort()).toEqual(["Task", "TaskAudit"]);
      expect(real.matchTriggerFilter(slug, { project: "kitten_labeling", task_type: "imageannotation", tags: ["experiment_1"] }, trigger.examples[0])).toBe(true);
    }
    expect(Object.keys(real.getTrigger("SCALE_AI_BATCH_COMPLETED")!.filters).sort()).toEqual(["batch", "project"]);
  });

  it("types the task status of each task event", () => {
    const completed = real.getTrigger("SCALE_AI_TASK_COMPLETED")!.examples[0]!;
    const pending = { ...completed, task: { ...(completed["task"] as object), status: "pending" } };
    expect(real.validateTriggerPayload("SCALE_AI_TASK_RECALLED", pending)).toEqual({ valid: true });
    expect(real.validateTriggerPayload("SCALE_AI_TASK_COMPLETED", pending)).toMatchObject({ valid: false, errors: [{ path: "/task/status", keyword: "const" }] });
  });
});

describe("trigger catalogue", () => {
  it("lists manifest and platform triggers by slug, or one integration's", () => {
    expect(registry.listTriggers().map((t) => t.slug)).toEqual(["DEMO_BATCH_DONE", "DEMO_TASK_DONE", "NAGENT_CONNECTION_STATUS_CHANGED", "NAGENT_SUBSCRIPTION_DISABLED"]);
    expect(registry.listTriggers("demo_app")).toEqual([
      { slug: "DEMO_BATCH_DONE", integration: "demo_app", name: "Batch done", description: "A batch finished.", group: null },
      { slug: "DEMO_TASK_DONE", integration: "demo_app", name: "Task done", description: "A task finished.", group: "tasks" },
    ]);
    expect(registry.listTriggers("nagent").map((t) => t.slug)).toEqual(PLATFORM_TRIGGERS.map((t) => t.slug));
    expect(registry.listTriggers("nobody")).toEqual([]);
    expect(registry.triggerIntegrations()).toEqual(["demo_app", "nagent"]);
  });

  it("pages and searches triggers with an opaque cursor", () => {
    const first = registry.listTriggerPage({ limit: 2 });
    expect(first.triggers.map((t) => t.slug)).toEqual(["DEMO_BATCH_DONE", "DEMO_TASK_DONE"]);
    expect(first.next_cursor).toEqual(expect.any(String));
    const second = registry.listTriggerPage({ limit: 2, cursor: first.next_cursor! });
    expect(second.triggers).toEqual([expect.objectContaining({ slug: "NAGENT_CONNECTION_STATUS_CHANGED" }), expect.objectContaining({ slug: "NAGENT_SUBSCRIPTION_DISABLED" })]);
    const rest = second.next_cursor === null ? [] : registry.listTriggerPage({ limit: 2, cursor: second.next_cursor }).triggers;
    expect(rest).toEqual([]);
    expect(registry.listTriggerPage({ q: "task done" }).triggers.map((t) => t.slug)).toEqual(["DEMO_TASK_DONE"]);
    expect(registry.listTriggerPage({ q: "connection", integration: "demo_app" }).triggers).toEqual([]);
    expect(() => registry.listTriggerPage({ cursor: "not-ours" })).toThrow(InvalidCursorError);
  });

  it("describes a trigger: bundled payload carrying only the $defs it reaches, examples, bundled filters", () => {
    const trigger = registry.getTrigger("DEMO_TASK_DONE")!;
    expect(trigger).toMatchObject({ slug: "DEMO_TASK_DONE", integration: "demo_app", source: "callback", group: "tasks", schema_version: null });
    expect(Object.keys((trigger.payload_schema as { $defs: object }).$defs).sort()).toEqual(["Annotation", "Batch", "Task"]);
    expect((registry.getTrigger("DEMO_BATCH_DONE")!.payload_schema as { $defs: object }).$defs).toEqual({ Batch: expect.any(Object) });
    expect(trigger.examples).toHaveLength(2);
    expect(trigger.filters["tags"]).toEqual({ description: "Only tasks with one of these tags.", schema: { type: "array", maxItems: 5, items: { type: "string", maxLength: 20 } }, path: "/task/tags", match: "any" });
    expect(trigger.filters["status"]!.match).toBe("equal");
    expect(registry.getTrigger("NOPE")).toBeUndefined();
    expect(registry.hasTrigger("DEMO_TASK_DONE")).toBe(true);
    expect(registry.hasTrigger("DEMO_CREATE_BATCH")).toBe(false);
    expect(Object.isFrozen(trigger.payload_schema)).toBe(true);
    expect(Object.isFrozen(trigger.filters["tags"]!.schema)).toBe(true);
  });

  it("validates payloads (errors rooted at data) and throws UnknownTriggerError for an unknown slug", () => {
    expect(registry.validateTriggerPayload("DEMO_TASK_DONE", { task_id: "t", task: { task_id: "t", status: "completed" } })).toEqual({ valid: true });
    expect(registry.validateTriggerPayload("DEMO_TASK_DONE", { task: { task_id: 1, status: "x" } })).toEqual({
      valid: false,
      errors: [
        { path: "/task_id", keyword: "required", message: "task_id is required" },
        { path: "/task/task_id", keyword: "type", message: "task.task_id must be a string" },
      ],
    });
    expect(registry.validateTriggerPayload("DEMO_TASK_DONE", [])).toMatchObject({ valid: false, errors: [{ path: "", message: "data must be an object" }] });
    expect(() => registry.validateTriggerPayload("NOPE", {})).toThrow(UnknownTriggerError);
    expect(() => registry.validateTriggerFilter("NOPE", {})).toThrow(UnknownTriggerError);
    expect(() => registry.matchTriggerFilter("NOPE", {}, {})).toThrow(UnknownTriggerError);
  });

  it("validates subscription filters: known names only, each against its schema", () => {
    expect(registry.validateTriggerFilter("DEMO_TASK_DONE", {})).toEqual({ valid: true });
    expect(registry.validateTriggerFilter("DEMO_TASK_DONE", { status: "completed", tags: ["a"] })).toEqual({ valid: true });
    expect(registry.validateTriggerFilter("DEMO_TASK_DONE", { colour: "red", status: 3, tags: ["a", "b", "c", "d", "e", "f"] })).toEqual({
      valid: false,
      errors: [
        { path: "/colour", keyword: "additionalProperties", message: "colour is not an allowed property" },
        { path: "/status", keyword: "type", message: "status must be a string" },
        { path: "/tags", keyword: "maxItems", message: "tags must have at most 5 items" },
      ],
    });
    expect(registry.validateTriggerFilter("DEMO_BATCH_DONE", { batch: "b1" })).toMatchObject({ valid: false, errors: [{ path: "/batch", keyword: "additionalProperties" }] });
    expect(registry.validateTriggerFilter("DEMO_TASK_DONE", "status=completed")).toMatchObject({ valid: false, errors: [{ path: "", message: "filter must be an object" }] });
  });

  it("matches filters: equal values, intersecting arrays, every filter given (AND)", () => {
    const data = { task_id: "t1", task: { task_id: "t1", status: "completed", tags: ["a", "b"], batch: { name: "b1", status: "completed" } } };
    const match = (filter: unknown, d: unknown = data) => registry.matchTriggerFilter("DEMO_TASK_DONE", filter, d);
    expect(match({})).toBe(true);
    expect(match({ status: "completed" })).toBe(true);
    expect(match({ status: "error" })).toBe(false);
    expect(match({ batch: "b1" })).toBe(true);
    expect(match({ tags: ["z", "b"] })).toBe(true);
    expect(match({ tags: ["z"] })).toBe(false);
    expect(match({ tags: [] })).toBe(false);
    expect(match({ status: "completed", tags: ["a"], batch: "b1" })).toBe(true);
    expect(match({ status: "completed", tags: ["a"], batch: "b2" })).toBe(false);
    // A value absent from the event never matches; neither does a name the trigger has no filter for.
    expect(match({ tags: ["a"] }, { task_id: "t2", task: { task_id: "t2", status: "error" } })).toBe(false);
    expect(match({ colour: "red" })).toBe(false);
    expect(match("status")).toBe(false);
  });

  it("has the platform trigger NAGENT_CONNECTION_STATUS_CHANGED with typed data and filters", () => {
    const trigger = registry.getTrigger("NAGENT_CONNECTION_STATUS_CHANGED")!;
    expect(trigger).toMatchObject({ integration: "nagent", source: "platform", group: "connections" });
    const data = trigger.examples[0]!;
    expect(Object.keys(data).sort()).toEqual(["changed_at", "connection_id", "from", "integration", "reason", "to"]);
    expect(registry.validateTriggerPayload(trigger.slug, data)).toEqual({ valid: true });
    expect(registry.validateTriggerPayload(trigger.slug, { ...data, reason: null })).toEqual({ valid: true });
    expect(registry.validateTriggerPayload(trigger.slug, { ...data, to: "broken" })).toMatchObject({ valid: false, errors: [{ path: "/to", keyword: "enum" }] });
    expect(registry.validateTriggerFilter(trigger.slug, { integration: "scale_ai", to: "invalid" })).toEqual({ valid: true });
    expect(registry.validateTriggerFilter(trigger.slug, { to: "gone" })).toMatchObject({ valid: false });
    expect(registry.matchTriggerFilter(trigger.slug, { integration: "scale_ai", to: "invalid" }, data)).toBe(true);
    expect(registry.matchTriggerFilter(trigger.slug, { to: "active" }, data)).toBe(false);
  });

  it("has the platform trigger NAGENT_SUBSCRIPTION_DISABLED with typed data and filters", () => {
    const trigger = registry.getTrigger("NAGENT_SUBSCRIPTION_DISABLED")!;
    expect(trigger).toMatchObject({ integration: "nagent", source: "platform", group: "triggers" });
    const data = trigger.examples[0]!;
    expect(Object.keys(data).sort()).toEqual(["disabled_at", "reason", "subscription_id", "target_url", "trigger"]);
    expect(registry.validateTriggerPayload(trigger.slug, data)).toEqual({ valid: true });
    expect(registry.validateTriggerPayload(trigger.slug, { ...data, extra: 1 })).toEqual({ valid: true });
    const { reason: _reason, ...noReason } = data;
    expect(registry.validateTriggerPayload(trigger.slug, noReason)).toMatchObject({ valid: false });
    expect(registry.validateTriggerPayload(trigger.slug, { ...data, subscription_id: "nope" })).toMatchObject({ valid: false, errors: [{ path: "/subscription_id" }] });
    expect(Object.keys(trigger.filters).sort()).toEqual(["subscription_id", "trigger"]);
    expect(registry.validateTriggerFilter(trigger.slug, { trigger: "SCALE_AI_TASK_COMPLETED", subscription_id: data["subscription_id"] })).toEqual({ valid: true });
    expect(registry.validateTriggerFilter(trigger.slug, { subscription_id: "nope" })).toMatchObject({ valid: false });
    expect(registry.matchTriggerFilter(trigger.slug, { trigger: "SCALE_AI_TASK_COMPLETED" }, data)).toBe(true);
    expect(registry.matchTriggerFilter(trigger.slug, { trigger: "SCALE_AI_TASK_ERRORED" }, data)).toBe(false);
  });
});

describe("checkFlow with a trigger as the first step", () => {
  const event = { id: "ev", trigger: "DEMO_TASK_DONE" };
  const finalize = (id: string, ref: string) => ({ id, action: "DEMO_FINALIZE_BATCH", input: { batch_name: { $ref: ref } } });

  it("resolves references against the trigger's payload schema", () => {
    const result = registry.checkFlow([event, finalize("f", "steps.ev.data.task.batch.name"), { id: "t", action: "DEMO_ADD_TASK_TAGS", input: { task_id: { $ref: "steps.ev.data.task_id" }, tags: { $ref: "steps.ev.data.task.tags" } } }]);
    expect(result.errors).toEqual([]);
    expect(result.valid).toBe(true);
    // task.batch is optional in the payload's Task, task.tags too: warnings, not errors.
    expect(result.warnings.map((w) => w.step)).toEqual(["f", "t"]);
    expect(result.warnings[0]!.message).toBe("steps.ev.data.task.batch.name may be absent from the payload of DEMO_TASK_DONE, and batch_name is required");
  });

  it("reports a field the payload does not declare", () => {
    expect(registry.checkFlow([event, finalize("f", "steps.ev.data.task.colour")]).errors).toEqual([
      { step: "f", path: "/batch_name", message: 'data.task.colour is not in the payload of DEMO_TASK_DONE (step "ev"): "colour" is not declared' },
    ]);
  });

  it("reports a type that cannot fit", () => {
    expect(registry.checkFlow([event, finalize("f", "steps.ev.data.score")]).errors).toEqual([{ step: "f", path: "/batch_name", message: "steps.ev.data.score is number, but batch_name expects string" }]);
  });

  it("refuses a trigger that is not the first step, has an input or an action, or is unknown", () => {
    const createBatch = { id: "b1", action: "DEMO_CREATE_BATCH", input: { name: "b", project: "p" } };
    expect(registry.checkFlow([createBatch, event]).errors).toEqual([{ step: "ev", path: "", message: "a trigger can only be the first step: it is the event that starts the flow" }]);
    expect(registry.checkFlow([{ ...event, input: {} }]).errors).toEqual([{ step: "ev", path: "", message: "a trigger step has no input: its data is the event's" }]);
    expect(registry.checkFlow([{ ...event, action: "DEMO_CREATE_BATCH" }]).errors).toEqual([{ step: "ev", path: "", message: "a step is an action or a trigger, not both" }]);
    expect(registry.checkFlow([{ id: "ev", trigger: "DEMO_CREATE_BATCH" }]).errors).toEqual([{ step: "ev", path: "", message: 'unknown trigger "DEMO_CREATE_BATCH"' }]);
    expect(registry.checkFlow([{ id: "ev", trigger: 7 }]).errors).toEqual([{ step: "ev", path: "", message: "trigger must be a trigger slug" }]);
  });

  it("lets a flow of a trigger alone be valid, and a platform trigger start a flow", () => {
    expect(registry.checkFlow([event])).toEqual({ valid: true, errors: [], warnings: [] });
    const result = registry.checkFlow([{ id: "c", trigger: "NAGENT_CONNECTION_STATUS_CHANGED" }, finalize("f", "steps.c.data.integration")]);
    expect(result).toEqual({ valid: true, errors: [], warnings: [] });
  });
});
