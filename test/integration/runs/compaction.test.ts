// Large inputs and outputs are stored compactly: past the caps (64 KiB input once the run ends, 1 MiB output) the
// largest values become `{"truncated": true, "bytes": n, "preview": "…"}` and the run says so (input_truncated,
// output_truncated); the envelope keeps its shape. One real execution, the rest through the store the worker uses.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { uuidv7 } from "@nagent/db";
import { createRunStore, jsonBytes, STORED_INPUT_MAX_BYTES, STORED_OUTPUT_MAX_BYTES, type Envelope } from "@nagent/runs";
import { bearer } from "../../support/app";
import { createStackWithWorkspace, type TestStack } from "../../support/stack";
import type { ConnectedWorkspace } from "../../support/workspace";

let s: TestStack;
let ws: ConnectedWorkspace;
beforeAll(async () => ({ s, ws } = await createStackWithWorkspace({ workspace: { name: "compaction", projects: ["kitten_labeling"] } })));
afterAll(() => s?.close());

async function getRun(id: string) {
  const res = await s.app.inject({ method: "GET", url: `/v1/runs/${id}`, headers: bearer(ws.apiKey) });
  expect(res.statusCode, res.body).toBe(200);
  return res.json().run as { status: string; input: any; input_truncated: boolean; output: any; output_truncated: boolean };
}

/** Runs one attempt through the store as the worker does: insert, claim, finish with `envelope`. */
async function runThroughStore(input: Record<string, unknown>, envelope: Envelope): Promise<string> {
  const store = createRunStore(s.db.pool);
  const id = uuidv7();
  await store.insert({ id, workspaceId: ws.id, connectionId: ws.connectionId, integration: "scale_ai", action: "SCALE_AI_LIST_TASKS", schemaVersion: 1, input, idempotencyKey: null, requestHash: null });
  const claimed = await store.claim(id);
  expect(claimed).not.toBeNull();
  const ended = await store.finish({ id, attempt: claimed!.attempt, input: claimed!.input }, {
    status: envelope.successful ? "succeeded" : "failed", envelope, outcome: envelope.successful ? "succeeded" : "failed",
    upstreamStatus: 200, latencyMs: 5, errorCode: envelope.error?.code ?? null, errorMessage: envelope.error?.message ?? null,
  });
  expect(ended).not.toBeNull();
  return id;
}

const marker = (bytes: number) => ({ truncated: true, bytes, preview: expect.any(String) });

describe("compaction of large inputs and outputs", () => {
  it("a real run with a 90 kB instruction ends with the instruction replaced by a marker and input_truncated", async () => {
    const instruction = `Label every kitten. ${"Be precise. ".repeat(8_000)}`.slice(0, 90_000);
    const res = await s.execute(ws.apiKey, "SCALE_AI_CREATE_IMAGE_ANNOTATION_TASK", {
      input: { project: "kitten_labeling", attachment: "https://example.com/k.jpg", geometries: { box: { objects_to_annotate: ["kitten"] } }, instruction },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.successful).toBe(true);
    const run = await getRun(res.body.run_id);
    expect(run.input_truncated).toBe(true);
    expect(run.input.instruction).toEqual(marker(90_000));
    expect(run.input.instruction.preview).toBe(instruction.slice(0, 200));
    // What was small is kept as given.
    expect(run.input).toMatchObject({ project: "kitten_labeling", attachment: "https://example.com/k.jpg", geometries: { box: { objects_to_annotate: ["kitten"] } } });
    expect(jsonBytes(run.input)).toBeLessThanOrEqual(STORED_INPUT_MAX_BYTES);
    const listed = await s.app.inject({ method: "GET", url: `/v1/runs?action=SCALE_AI_CREATE_IMAGE_ANNOTATION_TASK`, headers: bearer(ws.apiKey) });
    expect(listed.json().runs[0]).toMatchObject({ id: res.body.run_id, input_truncated: true, output_truncated: false, successful: true });
  });

  it("a large string input and a large string output: markers in place, flags set, everything else intact", async () => {
    const id = await runThroughStore(
      { project: "p", notes: "n".repeat(100_000), tags: ["a", "b"] },
      { data: { file: "x".repeat(2 * 1024 * 1024), name: "report.csv", rows: 3 }, error: null, successful: true },
    );
    const run = await getRun(id);
    expect(run).toMatchObject({ status: "succeeded", input_truncated: true, output_truncated: true });
    expect(run.input).toEqual({ project: "p", notes: marker(100_000), tags: ["a", "b"] });
    expect(run.output).toEqual({ data: { file: marker(2 * 1024 * 1024), name: "report.csv", rows: 3 }, error: null, successful: true });
  });

  it("an output too large in many small values keeps the envelope, with the largest part replaced by a marker", async () => {
    const tasks = Array.from({ length: 40_000 }, (_, i) => ({ task_id: `task_${i}`, status: "pending", n: i }));
    expect(jsonBytes(tasks)).toBeGreaterThan(STORED_OUTPUT_MAX_BYTES);
    const id = await runThroughStore({ project: "p" }, { data: { docs: tasks, next_token: "abc" }, error: null, successful: true });
    const run = await getRun(id);
    expect(run.output_truncated).toBe(true);
    expect(run.input_truncated).toBe(false);
    expect(run.output).toEqual({ data: { docs: marker(jsonBytes(tasks)), next_token: "abc" }, error: null, successful: true });
    expect(run.output.data.docs.preview).toBe(JSON.stringify(tasks).slice(0, 200));
  });

  it("an input too large in many small values is compacted the same way once the run ends", async () => {
    const ids = Array.from({ length: 12_000 }, (_, i) => `id_${i}`);
    const id = await runThroughStore({ project: "p", ids }, { data: null, error: { code: "UPSTREAM_BAD_REQUEST", message: "bad", retryable: false }, successful: false });
    const run = await getRun(id);
    expect(run).toMatchObject({ status: "failed", input_truncated: true, output_truncated: false });
    expect(run.input).toEqual({ project: "p", ids: marker(jsonBytes(ids)) });
    expect(run.output).toEqual({ data: null, error: { code: "UPSTREAM_BAD_REQUEST", message: "bad", retryable: false }, successful: false });
  });

  it("leaves runs under the caps exactly as they were", async () => {
    const input = { project: "p", notes: "n".repeat(60_000) };
    const data = { file: "x".repeat(900_000) };
    const id = await runThroughStore(input, { data, error: null, successful: true });
    const run = await getRun(id);
    expect(run).toMatchObject({ input_truncated: false, output_truncated: false });
    expect(run.input).toEqual(input);
    expect(run.output.data).toEqual(data);
  });

  it("compacts the input of a run canceled before it ran", async () => {
    const store = createRunStore(s.db.pool);
    const id = uuidv7();
    const big = "x".repeat(STORED_INPUT_MAX_BYTES + 1000);
    await store.insert({ id, workspaceId: ws.id, connectionId: ws.connectionId, integration: "scale_ai", action: "SCALE_AI_LIST_TASKS", schemaVersion: 1, input: { project: big }, idempotencyKey: null, requestHash: null });
    const res = await s.app.inject({ method: "POST", url: `/v1/runs/${id}/cancel`, headers: bearer(ws.apiKey) });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().run).toMatchObject({ status: "canceled", input_truncated: true, input: { project: marker(big.length) } });
    const run = await getRun(id);
    expect(run.input_truncated).toBe(true);
  });
});

