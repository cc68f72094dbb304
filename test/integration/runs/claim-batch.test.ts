// Two jobs of one run must never both hold it: should both ask for the run in one claim batch, the statement claims
// the run once, and only the first caller may be told so.
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

});
