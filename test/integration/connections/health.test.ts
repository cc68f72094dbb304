// Issue 14, item 6: connection health as states with events. A revoked key moves the connection to invalid with ONE
// event (however many runs hit the 401 at once), runs then fail fast with CONNECTION_INVALID, and the probe brings it
// back once the key works again; timeouts/5xx degrade it and a success restores it. Against the sandbox's faults.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recordConnectionTransition } from "@nagent/db";
import { bearer } from "../../support/app";
import { createTestStack, type TestStack } from "../../support/stack";
import { executeAsync, waitForEnd } from "../../support/execution";
import { connectedWorkspace } from "../../support/workspace";

let s: TestStack;
beforeAll(async () => {
  // A fast probe: a round every 200 ms, a connection's first probe 300 ms after it went bad, then 600 ms, 1.2 s…
  s = await createTestStack({ worker: { probe: { everyMs: 200, baseMs: 300, capMs: 2_000 } } });
});
afterAll(async () => {
  await s?.close();
});

interface ConnectionEvent { id: string; from: string; to: string; reason: string; created_at: string }

const getConnection = async (apiKey: string, id: string) => {
  const res = await s.app.inject({ method: "GET", url: `/v1/connections/${id}`, headers: bearer(apiKey) });
  expect(res.statusCode, res.body).toBe(200);
  return res.json().connection as { status: string; last_error: string | null; next_probe_at: string | null };
};
const events = async (apiKey: string, id: string, query = "") => {
  const res = await s.app.inject({ method: "GET", url: `/v1/connections/${id}/events${query}`, headers: bearer(apiKey) });
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as { events: ConnectionEvent[]; next_cursor: string | null };
};

describe("connection health", () => {
  it("a revoked key: invalid with one event, runs fail fast, and the probe brings it back once the key is valid again", async () => {
    const ws = await connectedWorkspace(s, "revoked");
    s.sandbox.control.removeKey(ws.scaleKey);
    // Several runs meet the 401 at about the same time: one transition, one event.
    const ids = await Promise.all(Array.from({ length: 6 }, (_, i) => executeAsync(s, ws.apiKey, "SCALE_AI_LIST_BATCHES", { offset: i })));
    const ended = await Promise.all(ids.map((id) => waitForEnd(s, ws.apiKey, id)));
    for (const run of ended) {
      expect(run.status).toBe("failed");
      expect(["UPSTREAM_UNAUTHORIZED", "CONNECTION_INVALID"]).toContain(run.output?.error?.code);
    }
    const connection = await getConnection(ws.apiKey, ws.connectionId);
    expect(connection.status).toBe("invalid");
    const first = (await events(ws.apiKey, ws.connectionId)).events;
    expect(first).toHaveLength(1);
    expect(first[0]).toMatchObject({ from: "active", to: "invalid" });
    expect(first[0]!.reason).toContain("401");

    // A new run fails fast, saying how to fix it.
    const refused = await s.execute(ws.apiKey, "SCALE_AI_LIST_BATCHES", { input: {} });
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe("CONNECTION_INVALID");
    expect(refused.body.error.message).toContain("PATCH /v1/connections/:id");

    // Probes while the key is still refused change nothing (and record nothing).
    await expect.poll(async () => (await s.db.pool.query<{ n: number }>("SELECT probe_failures AS n FROM connection WHERE id = $1", [ws.connectionId])).rows[0]!.n, { timeout: 10_000 }).toBeGreaterThanOrEqual(1);
    expect((await events(ws.apiKey, ws.connectionId)).events).toHaveLength(1);
    expect((await getConnection(ws.apiKey, ws.connectionId)).status).toBe("invalid");

    // The key works again: the scheduled probe restores the connection, with one more event.
    s.sandbox.control.addKey(ws.scaleKey);
    await expect.poll(async () => (await getConnection(ws.apiKey, ws.connectionId)).status, { timeout: 15_000, interval: 100 }).toBe("active");
    const after = (await events(ws.apiKey, ws.connectionId)).events;
    expect(after).toHaveLength(2);
    expect(after[0]).toMatchObject({ from: "invalid", to: "active" });
    expect(after[0]!.reason).toContain("probe");
    const ok = await s.execute(ws.apiKey, "SCALE_AI_LIST_BATCHES", { input: {} });
    expect(ok.body.successful).toBe(true);

    // Counted in the cluster-wide metrics, by from and to.
    const counted = async (from: string, to: string) => {
      const body = (await s.app.inject({ method: "GET", url: "/metrics" })).body;
      const line = body.split("\n").find((l) => l.startsWith(`nagent_connection_status_transitions_total{integration="scale_ai",from="${from}",to="${to}"}`));
      return line ? Number(line.split(" ").at(-1)) : 0;
    };
    await expect.poll(() => counted("active", "invalid"), { timeout: 5_000 }).toBeGreaterThanOrEqual(1);
    await expect.poll(() => counted("invalid", "active"), { timeout: 5_000 }).toBeGreaterThanOrEqual(1);
  }, 60_000);

  it("timeouts/5xx degrade an active connection (its runs still go through); a success makes it active again", async () => {
    const ws = await connectedWorkspace(s, "flaky");
    ws.faults([{ route: "GET /v1/batches", error_rate: 1, error_status: 503, times: 3 }]);
    const run = await waitForEnd(s, ws.apiKey, await executeAsync(s, ws.apiKey, "SCALE_AI_LIST_BATCHES", {}));
    // Three 503s, then a success on the fourth attempt (retries).
    expect(run.status).toBe("succeeded");
    await expect.poll(async () => (await getConnection(ws.apiKey, ws.connectionId)).status, { timeout: 10_000 }).toBe("active");
    const list = (await events(ws.apiKey, ws.connectionId)).events;
    expect(list.map((e) => `${e.from}>${e.to}`)).toEqual(["degraded>active", "active>degraded"]);
    expect(list[1]!.reason).toContain("503");
  }, 30_000);

  it("records one event when many callers report the same change at once", async () => {
    const ws = await connectedWorkspace(s, "race");
    const results = await Promise.all(Array.from({ length: 10 }, () =>
      recordConnectionTransition(s.db.pool, { workspaceId: ws.id, connectionId: ws.connectionId, to: "degraded", from: ["active"], reason: "test", firstProbeInMs: 600_000 })));
    expect(results.filter((r) => r !== null)).toHaveLength(1);
    expect(results.find((r) => r !== null)).toMatchObject({ from: "active", to: "degraded", integration: "scale_ai" });
    expect((await events(ws.apiKey, ws.connectionId)).events).toHaveLength(1);
    // The same status again is no transition.
    expect(await recordConnectionTransition(s.db.pool, { workspaceId: ws.id, connectionId: ws.connectionId, to: "degraded", reason: "again" })).toBeNull();
    // Another workspace's id matches nothing.
    const other = await connectedWorkspace(s, "other");
    expect(await recordConnectionTransition(s.db.pool, { workspaceId: other.id, connectionId: ws.connectionId, to: "invalid", reason: "x" })).toBeNull();
  });

  it("pages the events with a cursor, and hides them from another workspace (404)", async () => {
    const ws = await connectedWorkspace(s, "pages");
    for (const to of ["degraded", "active", "invalid"] as const) {
      await recordConnectionTransition(s.db.pool, { workspaceId: ws.id, connectionId: ws.connectionId, to, reason: `to ${to}`, firstProbeInMs: 600_000 });
    }
    const page1 = await events(ws.apiKey, ws.connectionId, "?limit=2");
    expect(page1.events.map((e) => e.to)).toEqual(["invalid", "active"]);
    expect(page1.next_cursor).toEqual(expect.any(String));
    const page2 = await events(ws.apiKey, ws.connectionId, `?limit=2&cursor=${page1.next_cursor}`);
    expect(page2.events.map((e) => e.to)).toEqual(["degraded"]);
    expect(page2.next_cursor).toBeNull();

    const bad = await s.app.inject({ method: "GET", url: `/v1/connections/${ws.connectionId}/events?cursor=nope`, headers: bearer(ws.apiKey) });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe("INVALID_CURSOR");
    const stranger = await s.createWorkspace("stranger");
    const hidden = await s.app.inject({ method: "GET", url: `/v1/connections/${ws.connectionId}/events`, headers: bearer(stranger.apiKey) });
    expect(hidden.statusCode).toBe(404);
  });
});
