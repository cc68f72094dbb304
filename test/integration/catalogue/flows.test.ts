import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_FLOW_STEPS } from "@nagent/registry";
import { createTestAppWithWorkspace, type TestApp } from "../../support/app";

let t: TestApp;
let key: { authorization: string };
beforeAll(async () => ({ t, key } = await createTestAppWithWorkspace()));
afterAll(() => t.close());

const check = (payload: unknown) => t.app.inject({ method: "POST", url: "/v1/flows/check", headers: key, payload: payload as object });
const create = { id: "b1", action: "SCALE_AI_CREATE_BATCH", input: { name: "b", project: "p" } };
const finalize = (id: string, ref: string) => ({ id, action: "SCALE_AI_FINALIZE_BATCH", input: { batch_name: { $ref: ref } } });

describe("POST /v1/flows/check", () => {
  it("done when: feeding steps.b1.data.name of a create-batch step into finalize's batch name checks valid", async () => {
    const res = await check({ steps: [create, finalize("f1", "steps.b1.data.name")] });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ valid: true, errors: [], warnings: [] });
  });

  it("done when: a number-typed path and a missing path are both reported", async () => {
    const res = await check({ steps: [create, finalize("f1", "steps.b1.data.pending"), finalize("f2", "steps.b1.data.no_such_field")] });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.valid).toBe(false);
    expect(body.errors).toEqual([
      { step: "f1", path: "/batch_name", message: expect.stringMatching(/steps\.b1\.data\.pending is .*integer.*batch_name expects .*string/) },
      { step: "f2", path: "/batch_name", message: expect.stringContaining("data.no_such_field is not in the output of SCALE_AI_CREATE_BATCH") },
    ]);
  });

  it("reports every problem of a flow, not the first: order, unknown steps and actions, bad inputs", async () => {
    const res = await check({
      steps: [
        finalize("early", "steps.b1.data.name"),
        create,
        finalize("ghost", "steps.nobody.data.name"),
        { id: "x1", action: "SCALE_AI_NOPE", input: {} },
        { id: "b1", action: "SCALE_AI_CREATE_BATCH", input: { project: "p" } },
      ],
    });
    expect(res.statusCode).toBe(200);
    const { valid, errors } = res.json() as { valid: boolean; errors: { step: string; path: string; message: string }[] };
    expect(valid).toBe(false);
    expect(errors).toEqual(expect.arrayContaining([
      { step: "early", path: "/batch_name", message: expect.stringContaining("runs later") },
      { step: "ghost", path: "/batch_name", message: expect.stringContaining("does not exist") },
      { step: "x1", path: "", message: expect.stringContaining("unknown action") },
      { step: "b1", path: "", message: expect.stringContaining("used twice") },
      { step: "b1", path: "/name", message: "name is required" },
    ]));
  });

  it("includes the registry's warnings (a value that may be absent)", async () => {
    // A batch's callback is optional in its output, and SCALE_AI_CREATE_BATCH requires nothing of it, so use a
    // required string input fed from an optional output field.
    const res = await check({ steps: [create, { id: "c2", action: "SCALE_AI_CREATE_BATCH", input: { name: { $ref: "steps.b1.data.callback" }, project: "p" } }] });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      valid: true,
      errors: [],
      warnings: [{ step: "c2", path: "/name", message: expect.stringContaining("may be absent") }],
    });
  });

  it("bounds the body: steps, ids, actions and inputs", async () => {
    const many = Array.from({ length: MAX_FLOW_STEPS + 1 }, (_, i) => ({ id: `s${i}`, action: "SCALE_AI_GET_TEAMS", input: {} }));
    const atMost = await check({ steps: many.slice(0, MAX_FLOW_STEPS) });
    expect(atMost.statusCode).toBe(200);
    const bodies: unknown[] = [
      {},
      { steps: [] },
      { steps: many },
      { steps: [{ ...create, id: "i".repeat(65) }] },
      { steps: [{ ...create, action: "A".repeat(129) }] },
      { steps: [{ ...create, input: Object.fromEntries(Array.from({ length: 201 }, (_, i) => [`p${i}`, i])) }] },
      { steps: [{ ...create, extra: true }] },
      { steps: [{ id: "b1", action: "SCALE_AI_CREATE_BATCH" }] },
      { steps: [create], more: 1 },
    ];
    for (const body of bodies) {
      const res = await check(body);
      expect(res.statusCode, JSON.stringify(body).slice(0, 100)).toBe(400);
      expect(res.json().error.code).toBe("VALIDATION_FAILED");
    }
  });
});
