import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDatabase } from "@nagent/db";
import { getSchemaVersion, getTriggerSchemaVersion, listSchemaVersions, listTriggerSchemaVersions, loadRegistry, syncSchemaVersions, syncTriggerSchemaVersions } from "@nagent/registry";
import { createTestDatabase, type TestDatabase } from "../../support/database";
import { actionOf, brokenDemo, removeTemporaryDirectories, VALID_DIR } from "@nagent/registry/test-fixtures";

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});

afterAll(async () => {
  removeTemporaryDirectories();
  await db?.drop();
});

describe("schema versions in PostgreSQL", () => {
  it("stores version 1 of every action on the first load, then nothing for the same manifest", async () => {
    const registry = loadRegistry(VALID_DIR);
    const first = await syncSchemaVersions(db.prisma, registry);
    expect(first).toHaveLength(9);
    expect(first.every((s) => s.version === 1 && s.created && s.compatibility === null)).toBe(true);
    expect(registry.getAction("DEMO_CREATE_BATCH")?.schema_version).toBe(1);

    const again = loadRegistry(VALID_DIR);
    expect(again.getAction("DEMO_CREATE_BATCH")?.schema_version).toBeNull();
    const second = await syncSchemaVersions(db.prisma, again);
    expect(second.every((s) => s.version === 1 && !s.created)).toBe(true);
    expect(again.getAction("DEMO_CREATE_BATCH")?.schema_version).toBe(1);
    expect(await db.prisma.actionSchema.count()).toBe(9);

    const [v1] = await listSchemaVersions(db.prisma, "DEMO_CREATE_BATCH");
    expect(v1).toMatchObject({ version: 1, compatibility: null, changes: [], content_hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
  });

  it("adds a classified version 2 for each changed action only", async () => {
    const changed = loadRegistry(
      brokenDemo((d) => {
        // Backward: an optional input property more.
        const create = actionOf(d, "DEMO_CREATE_BATCH");
        create.input.properties.note = { type: "string", maxLength: 100, description: "A note." };
        create.params.note = { in: "body" };
        // Forward: a bound tightened.
        actionOf(d, "DEMO_SET_BATCH_SIZE").input.properties.size.maximum = 1000;
        // Breaking: a required input property more.
        const finalize = actionOf(d, "DEMO_FINALIZE_BATCH");
        finalize.input.properties.force = { type: "boolean", description: "Even if empty." };
        finalize.input.required.push("force");
        finalize.params.force = { in: "body" };
        finalize.input.examples = [{ batch_name: "b", force: true }];
        // Full: a description only.
        actionOf(d, "DEMO_LIST_TASKS").input.properties.limit.description = "How many tasks a page holds.";
      }),
    );
    const synced = await syncSchemaVersions(db.prisma, changed);
    const byAction = Object.fromEntries(synced.map((s) => [s.action, s]));
    expect(byAction["DEMO_CREATE_BATCH"]).toMatchObject({ version: 2, created: true, compatibility: "backward" });
    expect(byAction["DEMO_SET_BATCH_SIZE"]).toMatchObject({ version: 2, created: true, compatibility: "forward" });
    expect(byAction["DEMO_FINALIZE_BATCH"]).toMatchObject({ version: 2, created: true, compatibility: "breaking" });
    expect(byAction["DEMO_LIST_TASKS"]).toMatchObject({ version: 2, created: true, compatibility: "full" });
    expect(synced.filter((s) => s.created)).toHaveLength(4);
    expect(changed.getAction("DEMO_CREATE_BATCH")?.schema_version).toBe(2);
    expect(changed.getAction("DEMO_CREATE_TASK")?.schema_version).toBe(1);

    const versions = await listSchemaVersions(db.prisma, "DEMO_FINALIZE_BATCH");
    expect(versions.map((v) => [v.version, v.compatibility])).toEqual([
      [2, "breaking"],
      [1, null],
    ]);
    expect(versions[0]!.changes).toEqual(
      expect.arrayContaining([expect.objectContaining({ path: "/input/properties/force", kind: "required_added", compatibility: "forward" })]),
    );

    const old = await getSchemaVersion(db.prisma, "DEMO_FINALIZE_BATCH", 1);
    expect((old?.input_schema as { required: string[] }).required).toEqual(["batch_name"]);
    const current = await getSchemaVersion(db.prisma, "DEMO_FINALIZE_BATCH", 2);
    expect((current?.input_schema as { required: string[] }).required).toEqual(["batch_name", "force"]);
    expect(await getSchemaVersion(db.prisma, "DEMO_FINALIZE_BATCH", 3)).toBeUndefined();
    expect(await getSchemaVersion(db.prisma, "DEMO_FINALIZE_BATCH", 0)).toBeUndefined();
    expect(await listSchemaVersions(db.prisma, "NOPE")).toEqual([]);

    // Content an action already had keeps its number (a revert, or an older process of a rolling deploy).
    const reverted = loadRegistry(VALID_DIR);
    const back = await syncSchemaVersions(db.prisma, reverted);
    expect(back.every((s) => s.version === 1 && !s.created)).toBe(true);
    expect(reverted.getAction("DEMO_FINALIZE_BATCH")?.schema_version).toBe(1);
    expect(await db.prisma.actionSchema.count()).toBe(13);

    // Then new content is numbered after the highest version and classified against it.
    const third = await syncSchemaVersions(db.prisma, loadRegistry(brokenDemo((d) => (actionOf(d, "DEMO_FINALIZE_BATCH").input.properties.batch_name.maxLength = 100))));
    expect(third.find((s) => s.action === "DEMO_FINALIZE_BATCH")).toMatchObject({ version: 3, created: true, compatibility: "breaking" });
  });

  it("adds one version when two processes sync at once", async () => {
    const fresh = await createTestDatabase();
    // Two pools: the two syncs really run on two connections, as two booting processes would.
    const other = createDatabase({ url: fresh.url, max: 2 });
    try {
      const results = await Promise.all([syncSchemaVersions(fresh.prisma, loadRegistry(VALID_DIR)), syncSchemaVersions(other.prisma, loadRegistry(VALID_DIR))]);
      expect(await fresh.prisma.actionSchema.count()).toBe(9);
      expect(await fresh.prisma.triggerSchema.count()).toBe(4);
      const created = results.map((r) => r.filter((s) => s.created).length).sort();
      expect(created).toEqual([0, 9]);
      expect(results.flat().every((s) => s.version === 1)).toBe(true);
    } finally {
      await other.close();
      await fresh.drop();
    }
  });

  it("versions trigger payload schemas too, classified from the subscribers' side", async () => {
    // The earlier tests synced the fixture: version 1 of each trigger (the platform's included), stored once.
    const current = loadRegistry(VALID_DIR);
    await syncSchemaVersions(db.prisma, current);
    expect(await db.prisma.triggerSchema.count()).toBe(4);
    expect(current.getTrigger("DEMO_TASK_DONE")?.schema_version).toBe(1);
    expect(current.getTrigger("NAGENT_CONNECTION_STATUS_CHANGED")?.schema_version).toBe(1);
    const [v1] = await listTriggerSchemaVersions(db.prisma, "DEMO_TASK_DONE");
    expect(v1).toMatchObject({ version: 1, compatibility: null, changes: [], content_hash: expect.stringMatching(/^[0-9a-f]{64}$/) });

    const changed = loadRegistry(
      brokenDemo((d) => {
        // A new required field: existing subscribers keep working (backward).
        const done = d.triggers[0];
        done.payload.properties.finished_at = { type: "string", format: "date-time" };
        done.payload.required.push("finished_at");
        for (const example of done.examples) example.finished_at = "2026-12-06T00:00:00Z";
        // A field no longer required: a subscriber relying on it breaks (not backward).
        d.triggers[1].payload.required = [];
      }),
    );
    const synced = await syncTriggerSchemaVersions(db.prisma, changed);
    const byTrigger = Object.fromEntries(synced.map((s) => [s.trigger, s]));
    expect(byTrigger["DEMO_TASK_DONE"]).toMatchObject({ version: 2, created: true, compatibility: "backward" });
    expect(byTrigger["DEMO_BATCH_DONE"]).toMatchObject({ version: 2, created: true, compatibility: "forward" });
    expect(byTrigger["NAGENT_CONNECTION_STATUS_CHANGED"]).toMatchObject({ version: 1, created: false });
    expect(byTrigger["NAGENT_SUBSCRIPTION_DISABLED"]).toMatchObject({ version: 1, created: false });
    expect(changed.getTrigger("DEMO_TASK_DONE")?.schema_version).toBe(2);

    const versions = await listTriggerSchemaVersions(db.prisma, "DEMO_TASK_DONE");
    expect(versions.map((v) => [v.version, v.compatibility])).toEqual([
      [2, "backward"],
      [1, null],
    ]);
    expect(versions[0]!.changes).toEqual(expect.arrayContaining([expect.objectContaining({ path: "/payload/properties/finished_at", kind: "required_added" })]));
    const old = await getTriggerSchemaVersion(db.prisma, "DEMO_TASK_DONE", 1);
    expect((old?.payload_schema as { required: string[] }).required).toEqual(["task_id", "task"]);
    expect(await getTriggerSchemaVersion(db.prisma, "DEMO_TASK_DONE", 3)).toBeUndefined();
    expect(await listTriggerSchemaVersions(db.prisma, "NOPE")).toEqual([]);

    // A field removed from the payload (now any value): existing subscribers may break; a type change is breaking.
    const third = await syncTriggerSchemaVersions(
      db.prisma,
      loadRegistry(
        brokenDemo((d) => {
          const done = d.triggers[0];
          done.payload.properties.score = { type: "string" };
          delete done.examples[1].score;
          delete done.payload.properties.reviewers;
        }),
      ),
    );
    const task = third.find((s) => s.trigger === "DEMO_TASK_DONE")!;
    expect(task).toMatchObject({ version: 3, created: true, compatibility: "breaking" });
    const [v3] = await listTriggerSchemaVersions(db.prisma, "DEMO_TASK_DONE");
    expect(v3!.changes).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: "/payload/properties/reviewers", kind: "property_removed", compatibility: "forward" }),
        expect.objectContaining({ path: "/payload/properties/score", kind: "type_changed", compatibility: "breaking" }),
      ]),
    );
  });
});
