import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestAppWithWorkspace, type TestApp } from "../../support/app";
import { startApiWithChangedManifest, type ManifestDoc as Doc } from "../../support/manifests";

let t: TestApp;
let key: { authorization: string };
beforeAll(async () => ({ t, key } = await createTestAppWithWorkspace()));
afterAll(() => t.close());

/** Another API process over the same database, serving the Scale AI manifest after `mutate` (as during a rolling deploy); closed when the test finishes. */
const startChangedApi = (mutate: (doc: Doc) => void) => startApiWithChangedManifest(t, mutate);

const get = (app: FastifyInstance, url: string) => app.inject({ method: "GET", url, headers: key });

describe("schema versions over HTTP", () => {
  it("lists version 1 of every action after the first boot", async () => {
    const res = await get(t.app, "/v1/actions/SCALE_AI_CREATE_BATCH/versions");
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      action: "SCALE_AI_CREATE_BATCH",
      current_version: 1,
      versions: [{ version: 1, content_hash: expect.stringMatching(/^[0-9a-f]{64}$/), compatibility: null, changes: [], created_at: expect.any(String) }],
    });
    const unknown = await get(t.app, "/v1/actions/SCALE_AI_NOPE/versions");
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.code).toBe("NOT_FOUND");
  });

  it("after a manifest change: newest first with compatibility, and ?version=N answers either version", async () => {
    const other = await startChangedApi(
      (doc) => {
        const create = doc.actions.find((a: Doc) => a.slug === "SCALE_AI_CREATE_BATCH");
        create.input.properties.note = { type: "string", maxLength: 100, description: "A note." };
        create.params.note = { in: "body" };
        const finalize = doc.actions.find((a: Doc) => a.slug === "SCALE_AI_FINALIZE_BATCH");
        finalize.input.properties.force = { type: "boolean", description: "Even if empty." };
        finalize.input.required = [...(finalize.input.required ?? []), "force"];
        finalize.params.force = { in: "body" };
        finalize.input.examples = finalize.input.examples.map((e: Doc) => ({ ...e, force: true }));
      },
    );

    // Both servers read the same history; each reports the version it validates against.
    for (const [app, current] of [[t.app, 1], [other, 2]] as const) {
      const res = await get(app, "/v1/actions/SCALE_AI_CREATE_BATCH/versions");
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(body.current_version).toBe(current);
      expect(body.versions.map((v: { version: number; compatibility: string | null }) => [v.version, v.compatibility])).toEqual([[2, "backward"], [1, null]]);
      expect(body.versions[0].changes).toEqual(expect.arrayContaining([expect.objectContaining({ path: "/input/properties/note", compatibility: "backward" })]));
    }
    const finalize = (await get(t.app, "/v1/actions/SCALE_AI_FINALIZE_BATCH/versions")).json();
    expect(finalize.versions[0]).toMatchObject({ version: 2, compatibility: "breaking" });
    expect(finalize.versions[0].changes).toEqual(expect.arrayContaining([expect.objectContaining({ path: "/input/properties/force", kind: "required_added" })]));
    const untouched = (await get(t.app, "/v1/actions/SCALE_AI_GET_TEAMS/versions")).json();
    expect(untouched.versions.map((v: { version: number }) => v.version)).toEqual([1]);

    // The old server serves version 1 by default and version 2 on request; the new one the reverse.
    const noteOf = (res: { json(): any }) => res.json().action.input_schema.properties.note;
    const v1 = await get(t.app, "/v1/actions/SCALE_AI_CREATE_BATCH");
    expect(v1.json().action.schema_version).toBe(1);
    expect(noteOf(v1)).toBeUndefined();
    const v2 = await get(t.app, "/v1/actions/SCALE_AI_CREATE_BATCH?version=2");
    expect(v2.statusCode).toBe(200);
    expect(v2.json().action).toMatchObject({ slug: "SCALE_AI_CREATE_BATCH", integration: "scale_ai", name: "Create batch", schema_version: 2 });
    expect(noteOf(v2)).toEqual({ type: "string", maxLength: 100, description: "A note." });
    expect(v2.json().action.output_schema).toEqual(v1.json().action.output_schema);
    const current = await get(other, "/v1/actions/SCALE_AI_CREATE_BATCH");
    expect(current.json().action).toEqual(v2.json().action);
    const old = await get(other, "/v1/actions/SCALE_AI_CREATE_BATCH?version=1");
    expect(old.json().action).toEqual(v1.json().action);

    // Each server validates against its own current version.
    const input = { input: { name: "b", project: "p", note: "n" } };
    const byOld = await t.app.inject({ method: "POST", url: "/v1/actions/SCALE_AI_CREATE_BATCH/validate", headers: key, payload: input });
    expect(byOld.json()).toMatchObject({ valid: false, errors: [{ path: "/note", keyword: "additionalProperties" }] });
    const byNew = await other.inject({ method: "POST", url: "/v1/actions/SCALE_AI_CREATE_BATCH/validate", headers: key, payload: input });
    expect(byNew.json()).toEqual({ valid: true });

    const missing = await get(t.app, "/v1/actions/SCALE_AI_CREATE_BATCH?version=3");
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.code).toBe("NOT_FOUND");
  });
});
