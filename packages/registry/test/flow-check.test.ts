import { describe, expect, it } from "vitest";
import { loadRegistry } from "@nagent/registry";
import { VALID_DIR } from "./manifest-fixtures";

const registry = loadRegistry(VALID_DIR);
const createBatch = { id: "b1", action: "DEMO_CREATE_BATCH", input: { name: "b", project: "p" } };
const ref = (path: string) => ({ $ref: path });

describe("checkFlow: valid flows", () => {
  it("accepts a reference to an earlier step's output of the right type", () => {
    const result = registry.checkFlow([createBatch, { id: "f", action: "DEMO_FINALIZE_BATCH", input: { batch_name: ref("steps.b1.data.name") } }]);
    expect(result).toEqual({ valid: true, errors: [], warnings: [] });
  });

  it("follows $refs, array indexes and nested places; an integer fits a number", () => {
    const result = registry.checkFlow([
      { id: "list", action: "DEMO_LIST_TASKS", input: {} },
      {
        id: "t",
        action: "DEMO_CREATE_TASK",
        input: {
          type: "imageannotation",
          instruction: ref("steps.list.data.docs.0.batch.name"),
          tags: [ref("steps.list.data.docs.0.status"), "fixed"],
          attachments: [{ url: "https://x.example/a.png", kind: "image" }],
        },
      },
      { id: "size", action: "DEMO_SET_BATCH_SIZE", input: { batch_name: ref("steps.t.data.batch.name"), size: ref("steps.list.data.total") } },
    ]);
    expect(result.errors).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it("warns (without failing) when a referenced value may be absent or null where the input needs one", () => {
    const result = registry.checkFlow([createBatch, { id: "f", action: "DEMO_FINALIZE_BATCH", input: { batch_name: ref("steps.b1.data.project") } }, { id: "c", action: "DEMO_CREATE_BATCH", input: { name: "n", project: "p", callback: ref("steps.b1.data.callback") } }]);
    expect(result.valid).toBe(true);
    expect(result.warnings).toEqual([
      { step: "f", path: "/batch_name", message: "steps.b1.data.project may be absent from the output of DEMO_CREATE_BATCH, and batch_name is required" },
      { step: "c", path: "/callback", message: "steps.b1.data.callback may be null, but callback expects string" },
    ]);
  });
});

describe("checkFlow: broken flows report every problem", () => {
  it("reports a number-typed path and a missing path", () => {
    const result = registry.checkFlow([
      createBatch,
      { id: "f", action: "DEMO_FINALIZE_BATCH", input: { batch_name: ref("steps.b1.data.task_count") } },
      { id: "g", action: "DEMO_FINALIZE_BATCH", input: { batch_name: ref("steps.b1.data.nmae") } },
    ]);
    expect(result.valid).toBe(false);
    expect(result.errors).toEqual([
      { step: "f", path: "/batch_name", message: "steps.b1.data.task_count is integer, but batch_name expects string" },
      { step: "g", path: "/batch_name", message: 'data.nmae is not in the output of DEMO_CREATE_BATCH (step "b1"): "nmae" is not declared' },
    ]);
  });

  it("reports bad steps and references, each once", () => {
    const result = registry.checkFlow([
      { id: "a", action: "DEMO_NOPE", input: {} },
      { id: "a", action: "DEMO_FINALIZE_BATCH", input: { batch_name: ref("steps.later.data.name") } },
      { id: "1bad", action: "DEMO_FINALIZE_BATCH", input: { batch_name: ref("steps.1bad.data.name") } },
      { action: "DEMO_FINALIZE_BATCH", input: { batch_name: ref("steps.ghost.data.name") } },
      { id: "later", action: "DEMO_CREATE_BATCH", input: { name: "x", project: "p" } },
      { id: "syntax", action: "DEMO_FINALIZE_BATCH", input: { batch_name: ref("later.name") } },
      { id: "mixed", action: "DEMO_FINALIZE_BATCH", input: { batch_name: { $ref: "steps.later.data.name", extra: 1 } } },
    ]);
    expect(result.errors).toEqual([
      { step: "a", path: "", message: 'unknown action "DEMO_NOPE"' },
      { step: "a", path: "", message: 'step id "a" is used twice (also step #0)' },
      { step: "1bad", path: "", message: expect.stringMatching(/step id "1bad" must start with a letter/) },
      { step: "#3", path: "", message: "the step has no id" },
      { step: "a", path: "/batch_name", message: 'reference to step "later", which runs later (steps run in order)' },
      { step: "1bad", path: "/batch_name", message: 'reference to step "1bad", which does not exist' },
      { step: "#3", path: "/batch_name", message: 'reference to step "ghost", which does not exist' },
      { step: "syntax", path: "/batch_name", message: 'reference "later.name" must look like steps.<id>.data.<path>' },
      { step: "mixed", path: "/batch_name", message: "a reference is an object with $ref and nothing else" },
      { step: "mixed", path: "/batch_name", message: "batch_name must be a string" },
    ]);
  });

  it("reports a reference to the step itself", () => {
    const result = registry.checkFlow([{ id: "s", action: "DEMO_FINALIZE_BATCH", input: { batch_name: ref("steps.s.data.name") } }]);
    expect(result.errors).toEqual([{ step: "s", path: "/batch_name", message: 'a step cannot refer to its own output ("s")' }]);
  });

  it("validates the rest of the input, and a reference where no property is allowed", () => {
    const result = registry.checkFlow([
      createBatch,
      { id: "f", action: "DEMO_SET_BATCH_SIZE", input: { batch_name: ref("steps.b1.data.name"), size: "ten", colour: ref("steps.b1.data.name") } },
      { id: "g", action: "DEMO_SET_BATCH_SIZE", input: { size: 1 } },
    ]);
    expect(result.errors).toEqual([
      { step: "f", path: "/colour", message: "colour is not an allowed property" },
      { step: "f", path: "/size", message: "size must be an integer" },
      { step: "g", path: "/batch_name", message: "batch_name is required" },
    ]);
  });

  it("checks array item types and type mismatches of every kind", () => {
    const result = registry.checkFlow([
      { id: "t", action: "DEMO_CREATE_TASK", input: { type: "imageannotation", instruction: "i" } },
      {
        id: "u",
        action: "DEMO_CREATE_TASK",
        input: {
          type: "imageannotation",
          instruction: ref("steps.t.data.response.annotations.0.score"),
          tags: ref("steps.t.data.response.annotations"),
          metadata: ref("steps.t.data.tags"),
          unique_id: ref("steps.t.data.tags.first"),
        },
      },
    ]);
    expect(result.errors).toEqual([
      { step: "u", path: "/instruction", message: "steps.t.data.response.annotations.0.score is number, but instruction expects string" },
      { step: "u", path: "/tags", message: "steps.t.data.response.annotations is an array of object, but tags expects an array of string" },
      { step: "u", path: "/metadata", message: "steps.t.data.tags is array, but metadata expects object" },
      { step: "u", path: "/unique_id", message: 'data.tags.first is not in the output of DEMO_CREATE_TASK (step "t"): "first" is used on an array (use a numeric index)' },
    ]);
  });

  it("refuses what is not a list of steps", () => {
    expect(registry.checkFlow({ steps: [] })).toMatchObject({ valid: false, errors: [{ message: "steps must be an array" }] });
    expect(registry.checkFlow([])).toMatchObject({ valid: false, errors: [{ message: "a flow needs at least one step" }] });
    expect(registry.checkFlow([{ id: "x", action: "DEMO_LIST_TASKS", input: [] }])).toMatchObject({ valid: false, errors: [{ step: "x", message: "the step's input must be an object" }] });
  });
});
