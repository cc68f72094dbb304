// Two jobs of one run must never both hold it: should both ask for the run in one claim batch, the statement claims
// the run once, and only the first caller may be told so. A run may have two jobs (a batch job it waits in, and the
// sweeper's or a wait's job of its own), so the claim records the job holding it: only that job takes a running run
// over (a stalled job handed to another worker), and a run's wait is cut short by no job but its own.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { uuidv7 } from "@nagent/db";
import { createRunStore, type RunStore } from "@nagent/runs";
import { createStackWithWorkspace, type TestStack } from "../../support/stack";
import type { ConnectedWorkspace } from "../../support/workspace";

let s: TestStack;
let ws: ConnectedWorkspace;
beforeAll(async () => ({ s, ws } = await createStackWithWorkspace({ workspace: { name: "claim-batch" } })));
afterAll(() => s?.close());

async function queuedRun(store: RunStore): Promise<string> {
  const id = uuidv7();
  const outcome = await store.insert({ id, workspaceId: ws.id, connectionId: ws.connectionId, integration: "scale_ai", action: "SCALE_AI_LIST_PROJECTS", schemaVersion: 1, input: {}, idempotencyKey: null, requestHash: null });
  expect(outcome.kind).toBe("created");
  return id;
}

describe("claims of one run by two jobs", () => {
  it("in one batch, only the first caller gets the run; the run is claimed once", async () => {
    const store = createRunStore(s.db.pool);
    const [other, shared] = [await queuedRun(store), await queuedRun(store)];
    // One batch is in flight at a time: the first claim goes alone, the two claims of `shared` wait and share the next.
    const [a, first, second] = await Promise.all([store.claim(other), store.claim(shared), store.claim(shared)]);
    expect(a?.id).toBe(other);
    expect(first?.id).toBe(shared);
    expect(first?.attempt).toBe(1);
    expect(second).toBeNull();
    const { rows } = await s.db.pool.query<{ attempts_count: number; status: string }>("SELECT attempts_count, status FROM run WHERE id = $1", [shared]);
    expect(rows[0]).toEqual({ attempts_count: 1, status: "running" });
  });

  it("a running run is taken over only by the job that holds it, which records the lost attempt", async () => {
    const store = createRunStore(s.db.pool);
    const id = await queuedRun(store);
    expect((await store.claim(id, "bulk", "batch-a"))?.attempt).toBe(1);
    expect(await claimedBy(id)).toBe("batch-a");
    // Another job of the run (the sweeper's, its own id; another batch) finds it held and does nothing.
    expect(await store.claim(id)).toBeNull();
    expect(await store.claim(id, "bulk", "batch-b")).toBeNull();
    // The same job again (BullMQ handed it to another worker): the attempt in flight is recorded lost, a new one starts.
    const again = await store.claim(id, "bulk", "batch-a");
    expect(again).toMatchObject({ id, attempt: 2, previousLost: true });
    const { rows } = await s.db.pool.query<{ number: number; outcome: string }>("SELECT number, outcome FROM run_attempt WHERE run_id = $1 ORDER BY number", [id]);
    expect(rows).toEqual([{ number: 1, outcome: "lost" }]);
  });

  it("the sweeper's touch hands a running run over to the run's own job", async () => {
    const store = createRunStore(s.db.pool);
    const id = await queuedRun(store);
    expect(await store.claim(id, "bulk", "batch-c")).not.toBeNull();
    await store.touch(id);
    expect(await claimedBy(id)).toBe(id);
    expect(await store.claim(id, "bulk", "batch-c")).toBeNull();
    expect(await store.claim(id)).toMatchObject({ id, attempt: 2, previousLost: true });
  });

  it("a batch that must let a run it holds wait hands it over to the run's own job; no other holder can", async () => {
    const store = createRunStore(s.db.pool);
    const id = await queuedRun(store);
    expect(await store.claim(id, "bulk", "batch-e")).not.toBeNull();
    await store.handOver(id, "batch-other");
    expect(await claimedBy(id)).toBe("batch-e");
    await store.handOver(id, "batch-e");
    expect(await claimedBy(id)).toBe(id);
    expect(await store.claim(id)).toMatchObject({ id, attempt: 2, previousLost: true });
  });

  it("a queued run that waits is claimed before its time only by its own job; after it, by any", async () => {
    const store = createRunStore(s.db.pool);
    const [early, due] = [await queuedRun(store), await queuedRun(store)];
    await s.db.pool.query("UPDATE run SET next_attempt_at = now() + interval '1 hour' WHERE id = $1", [early]);
    await s.db.pool.query("UPDATE run SET next_attempt_at = now() - interval '1 second' WHERE id = $1", [due]);
    expect(await store.claim(early, "bulk", "batch-d")).toBeNull();
    expect(await store.claim(early)).toMatchObject({ id: early, attempt: 1 });
    expect(await store.claim(due, "bulk", "batch-d")).toMatchObject({ id: due, attempt: 1 });
  });
});

async function claimedBy(id: string): Promise<string | null> {
  return (await s.db.pool.query<{ claimed_by: string | null }>("SELECT claimed_by FROM run WHERE id = $1", [id])).rows[0]!.claimed_by;
}
