// Which hot-path writes wait for the disk at commit. A sync execute's insert and every claim commit without waiting for
// the WAL flush (synchronous_commit off for that statement's transaction only): the run's durable finish, or
// flushCommits before a sync execute answers 202, makes them durable before anyone is told about the run. An async
// execute's insert, and every finish, wait as usual. The setting must never leak into the pooled session.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pg from "pg";
import { uuidv7 } from "@nagent/db";
import { claimRuns, createRunStore, insertRuns, type InsertItem } from "@nagent/runs";
import { createTestStack, type TestStack } from "../../support/stack";
import { executeAsync, waitForEnd } from "../../support/execution";
import { connectedWorkspace } from "../../support/workspace";

let s: TestStack;
let ws: { id: string; apiKey: string; connectionId: string };
/** One connection, so a transaction opened with BEGIN holds the statements that follow. */
let session: pg.Pool;
beforeAll(async () => {
  s = await createTestStack({ env: { NAGENT_SYNC_TIMEOUT_MS: "300", NAGENT_UPSTREAM_TIMEOUT_MS: "2000", NAGENT_MAX_ATTEMPTS: "1" } });
  ws = await connectedWorkspace(s, "durability", { scaleKey: s.scaleKey });
  session = new pg.Pool({ connectionString: s.config.databaseUrl, max: 1 });
});
afterAll(async () => {
  await session?.end();
  await s?.close();
});

const item = (durable: boolean | undefined): InsertItem => ({
  id: uuidv7(), workspaceId: ws.id, connectionId: null, integration: "scale_ai", action: "SCALE_AI_LIST_PROJECTS",
  schemaVersion: 1, input: "{}", idempotencyKey: null, requestHash: null, ...(durable === undefined ? {} : { durable }),
});

/** Runs `statement` inside a transaction and answers synchronous_commit as the transaction's commit will see it. */
async function commitModeOf(statement: () => Promise<unknown>): Promise<string> {
  await session.query("BEGIN");
  try {
    await statement();
    const { rows } = await session.query<{ synchronous_commit: string }>("SHOW synchronous_commit");
    return rows[0]!.synchronous_commit;
  } finally {
    await session.query("COMMIT");
  }
}

const sessionSetting = async () => (await session.query<{ synchronous_commit: string }>("SHOW synchronous_commit")).rows[0]!.synchronous_commit;

describe("commit durability of the hot path", () => {
  it("an insert marked not durable commits without waiting; a durable one (the default) waits", async () => {
    expect(await commitModeOf(() => insertRuns(session, [item(false)]))).toBe("off");
    expect(await commitModeOf(() => insertRuns(session, [item(true)]))).toBe("on");
    expect(await commitModeOf(() => insertRuns(session, [item(undefined)]))).toBe("on");
    // A batch waits if any of its runs must be durable.
    expect(await commitModeOf(() => insertRuns(session, [item(false), item(false)]))).toBe("off");
    expect(await commitModeOf(() => insertRuns(session, [item(false), item(true)]))).toBe("on");
  });

  it("a claim commits without waiting; the finish that follows waits", async () => {
    const store = createRunStore(session);
    const run = item(true);
    await insertRuns(session, [run]);
    expect(await commitModeOf(async () => expect(await claimRuns(session, [{ id: run.id, holder: run.id }])).toHaveLength(1))).toBe("off");
    const claimed = (await session.query<{ attempts_count: number; input: Record<string, unknown> }>("SELECT attempts_count, input FROM run WHERE id = $1", [run.id])).rows[0]!;
    const envelope = { data: { docs: [] }, error: null, successful: true };
    expect(await commitModeOf(async () => {
      const ended = await store.finish({ id: run.id, attempt: claimed.attempts_count, input: claimed.input }, {
        status: "succeeded", envelope, outcome: "succeeded", upstreamStatus: 200, latencyMs: 1, errorCode: null, errorMessage: null,
      });
      expect(ended).not.toBeNull();
    })).toBe("on");
  });

  it("the setting never outlives the statement's transaction on the pooled session", async () => {
    const run = item(false);
    await insertRuns(session, [run]);
    expect(await sessionSetting()).toBe("on");
    await claimRuns(session, [{ id: run.id, holder: run.id }]);
    expect(await sessionSetting()).toBe("on");
    await createRunStore(session).flushCommits();
    expect(await sessionSetting()).toBe("on");
  });

  it("a sync execute past its bound whose run is gone (as a database crash would lose it) answers 503, not a dead run id", async () => {
    const hung = await connectedWorkspace(s, "durability-lost");
    hung.faults([{ route: "GET /v1/projects", hang: true, times: 1 }]);
    const pending = s.execute(hung.apiKey, "SCALE_AI_LIST_PROJECTS", { input: {}, mode: "sync" });
    let runId: string | undefined;
    while (!runId) {
      await new Promise((r) => setTimeout(r, 20));
      runId = (await s.db.pool.query<{ id: string }>("SELECT id FROM run WHERE workspace_id = $1", [hung.id])).rows[0]?.id;
    }
    await s.db.pool.query("DELETE FROM run WHERE id = $1", [runId]);
    const res = await pending;
    expect(res.status, JSON.stringify(res.body)).toBe(503);
    expect(res.body.error.code).toBe("SERVICE_UNAVAILABLE");
  });

  it("a sync execute past its bound answers 202 with a run that exists and then ends", async () => {
    const hung = await connectedWorkspace(s, "durability-hang");
    hung.faults([{ route: "GET /v1/projects", hang: true, times: 1 }]);
    const res = await s.execute(hung.apiKey, "SCALE_AI_LIST_PROJECTS", { input: {}, mode: "sync" });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    expect(["queued", "running"]).toContain(res.body.status);
    const { rows } = await s.db.pool.query("SELECT status FROM run WHERE id = $1", [res.body.run_id]);
    expect(rows).toHaveLength(1);
    const ended = await waitForEnd(s, hung.apiKey, res.body.run_id);
    expect(ended.status).toBe("failed");
    expect(ended.output?.error?.code).toBe("UPSTREAM_TIMEOUT");
    // An async execute is unaffected by the change.
    const other = await executeAsync(s, ws.apiKey, "SCALE_AI_LIST_PROJECTS", {});
    expect((await waitForEnd(s, ws.apiKey, other)).status).toBe("succeeded");
  });
});
