import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer } from "../../support/app";
import { freePort } from "../../support/net";
import { createTestStack, type TestStack } from "../../support/stack";
import { connectedWorkspace } from "../../support/workspace";

let s: TestStack;
beforeAll(async () => {
  s = await createTestStack();
});
afterAll(async () => {
  await s?.close();
});

const connect = (apiKey: string, payload: Record<string, unknown>) => s.app.inject({ method: "POST", url: "/v1/connections", headers: bearer(apiKey), payload });
const get = (apiKey: string, url: string) => s.app.inject({ method: "GET", url, headers: bearer(apiKey) });


describe("connections", () => {
  it("connects with a key the upstream accepts, answering a hint and never the key", async () => {
    const ws = await s.createWorkspace();
    const res = await connect(ws.apiKey, { integration: "scale_ai", credentials: { api_key: s.scaleKey } });
    expect(res.statusCode).toBe(201);
    const { connection } = res.json();
    expect(connection).toMatchObject({ integration: "scale_ai", name: "scale_ai", status: "active", is_default: true, base_url: s.sandbox.url, last_error: null });
    expect(connection.credential_hint).toBe(`test_…${s.scaleKey.slice(-4)}`);
    expect(res.body).not.toContain(s.scaleKey);
    expect(connection.last_verified_at).toEqual(expect.any(String));
  });

  it("answers 422 CONNECTION_TEST_FAILED with Scale's reason for a key the upstream refuses, storing nothing", async () => {
    const ws = await s.createWorkspace();
    const res = await connect(ws.apiKey, { integration: "scale_ai", credentials: { api_key: "test_notakeythesandboxknows" } });
    expect(res.statusCode).toBe(422);
    expect(res.json().error).toMatchObject({ code: "CONNECTION_TEST_FAILED", details: { upstream_status: 401, upstream_message: "No valid API key provided." } });
    expect((await get(ws.apiKey, "/v1/connections")).json().connections).toEqual([]);
  });

  it("answers 502 UPSTREAM_UNREACHABLE when the upstream cannot be reached", async () => {
    const ws = await s.createWorkspace();
    const res = await connect(ws.apiKey, { integration: "scale_ai", credentials: { api_key: s.scaleKey }, base_url: `http://127.0.0.1:${await freePort()}` });
    expect(res.statusCode).toBe(502);
    expect(res.json().error.code).toBe("UPSTREAM_UNREACHABLE");
  });

  it("validates credentials and base_url before calling anyone", async () => {
    const ws = await s.createWorkspace();
    const bad = await connect(ws.apiKey, { integration: "scale_ai", credentials: { api_key: "x" } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.details[0]).toMatchObject({ path: "/credentials/api_key" });
    expect(bad.body).not.toContain('"x"');
    for (const base_url of ["ftp://example.com", "https://user:pw@example.com", "https://example.com/v1?x=1"]) {
      const res = await connect(ws.apiKey, { integration: "scale_ai", credentials: { api_key: s.scaleKey }, base_url });
      expect(res.statusCode, base_url).toBe(400);
      expect(res.json().error.details[0].path).toBe("/base_url");
    }
    expect((await connect(ws.apiKey, { integration: "nope", credentials: { api_key: s.scaleKey } })).statusCode).toBe(404);
  });

  it("keeps several named connections per integration, one of them the default", async () => {
    const ws = await s.createWorkspace();
    const a = (await connect(ws.apiKey, { integration: "scale_ai", name: "prod", credentials: { api_key: s.scaleKey } })).json().connection;
    const b = (await connect(ws.apiKey, { integration: "scale_ai", name: "live", credentials: { api_key: s.liveKey } })).json().connection;
    expect([a.is_default, b.is_default]).toEqual([true, false]);
    expect((await connect(ws.apiKey, { integration: "scale_ai", name: "prod", credentials: { api_key: s.scaleKey } })).json().error.code).toBe("NAME_TAKEN");

    const promoted = await s.app.inject({ method: "PATCH", url: `/v1/connections/${b.id}`, headers: bearer(ws.apiKey), payload: { is_default: true, name: "live-2" } });
    expect(promoted.statusCode).toBe(200);
    expect(promoted.json().connection).toMatchObject({ is_default: true, name: "live-2" });
    expect((await get(ws.apiKey, `/v1/connections/${a.id}`)).json().connection.is_default).toBe(false);

    // Runs without connection_id use the default (the live key: tasks stay pending in the sandbox).
    const run = await s.execute(ws.apiKey, "SCALE_AI_LIST_PROJECTS", { input: {} });
    expect((await get(ws.apiKey, `/v1/runs/${run.body.run_id}`)).json().run.connection_id).toBe(b.id);

    // Deleting the default hands over to the other one.
    expect((await s.app.inject({ method: "DELETE", url: `/v1/connections/${b.id}`, headers: bearer(ws.apiKey) })).statusCode).toBe(204);
    expect((await get(ws.apiKey, `/v1/connections/${a.id}`)).json().connection.is_default).toBe(true);
    expect((await get(ws.apiKey, `/v1/connections/${b.id}`)).statusCode).toBe(404);
  });

  it("replaces credentials only after the upstream accepted the new ones", async () => {
    const ws = await s.createWorkspace();
    const c = (await connect(ws.apiKey, { integration: "scale_ai", credentials: { api_key: s.scaleKey } })).json().connection;
    const refused = await s.app.inject({ method: "PATCH", url: `/v1/connections/${c.id}`, headers: bearer(ws.apiKey), payload: { credentials: { api_key: "test_refusedbythesandbox" } } });
    expect(refused.statusCode).toBe(422);
    expect((await get(ws.apiKey, `/v1/connections/${c.id}`)).json().connection.credential_hint).toBe(c.credential_hint);
    const replaced = await s.app.inject({ method: "PATCH", url: `/v1/connections/${c.id}`, headers: bearer(ws.apiKey), payload: { credentials: { api_key: s.liveKey } } });
    expect(replaced.statusCode).toBe(200);
    expect(replaced.json().connection.credential_hint).toBe(`live_…${s.liveKey.slice(-4)}`);
  });

  it("tests a connection: a revoked key marks it invalid, runs then fail fast, and a good key makes it active again", async () => {
    const key = `test_${"r".repeat(20)}`;
    const ws = await connectedWorkspace(s, "Acme", { scaleKey: key });
    const c = ws.connection;
    const ok = await s.app.inject({ method: "POST", url: `/v1/connections/${c.id}/test`, headers: bearer(ws.apiKey) });
    expect(ok.json()).toMatchObject({ connection: { status: "active" }, test: { successful: true, error: null } });

    s.sandbox.control.removeKey(key);
    const failed = await s.app.inject({ method: "POST", url: `/v1/connections/${c.id}/test`, headers: bearer(ws.apiKey) });
    expect(failed.json()).toMatchObject({ connection: { status: "invalid", last_error: "No valid API key provided." }, test: { successful: false, error: { code: "UPSTREAM_UNAUTHORIZED", upstream_status: 401 } } });
    const run = await s.execute(ws.apiKey, "SCALE_AI_LIST_PROJECTS", { input: {} });
    expect(run.status).toBe(409);
    expect(run.body.error.code).toBe("CONNECTION_INVALID");

    s.sandbox.control.addKey(key);
    const again = await s.app.inject({ method: "POST", url: `/v1/connections/${c.id}/test`, headers: bearer(ws.apiKey) });
    expect(again.json().connection.status).toBe("active");
  });

  it("hides a connection of workspace A from workspace B on every route (404)", async () => {
    const a = await connectedWorkspace(s, "A");
    const b = await s.createWorkspace("B");
    const id = a.connectionId;
    expect((await get(b.apiKey, "/v1/connections")).json().connections).toEqual([]);
    const routes = [
      { method: "GET", url: `/v1/connections/${id}` },
      { method: "PATCH", url: `/v1/connections/${id}`, payload: { name: "mine" } },
      { method: "DELETE", url: `/v1/connections/${id}` },
      { method: "POST", url: `/v1/connections/${id}/test` },
    ] as const;
    for (const route of routes) {
      const res = await s.app.inject({ ...route, headers: bearer(b.apiKey) });
      expect(res.statusCode, `${route.method} ${route.url}`).toBe(404);
    }
    expect((await get(a.apiKey, `/v1/connections/${id}`)).json().connection.name).toBe("scale_ai");
  });

  it("refuses to open a ciphertext moved into another connection's row", async () => {
    const ws = await s.createWorkspace();
    const first = (await connect(ws.apiKey, { integration: "scale_ai", name: "one", credentials: { api_key: s.scaleKey } })).json().connection;
    const second = (await connect(ws.apiKey, { integration: "scale_ai", name: "two", credentials: { api_key: s.liveKey } })).json().connection;
    await s.db.pool.query(`UPDATE connection SET ciphertext = (SELECT ciphertext FROM connection WHERE id = $1) WHERE id = $2`, [first.id, second.id]);
    const run = await s.execute(ws.apiKey, "SCALE_AI_LIST_PROJECTS", { input: {}, connection_id: second.id });
    expect(run.status).toBe(200);
    expect(run.body).toMatchObject({ successful: false, error: { code: "CONNECTION_UNREADABLE" } });
    const test = await s.app.inject({ method: "POST", url: `/v1/connections/${second.id}/test`, headers: bearer(ws.apiKey) });
    expect(test.statusCode).toBe(409);
    expect(test.json().error.code).toBe("CONNECTION_UNREADABLE");
  });

  it("crypto-shreds a deleted workspace: its keys stop working and its data keys are gone", async () => {
    const ws = await connectedWorkspace(s, "doomed");
    const res = await s.app.inject({ method: "DELETE", url: `/v1/workspaces/${ws.id}`, headers: bearer(s.config.adminToken) });
    expect(res.statusCode).toBe(204);
    expect((await get(ws.apiKey, "/v1/connections")).statusCode).toBe(401);
    const keys = await s.db.pool.query("SELECT count(*)::int AS n FROM workspace_key WHERE workspace_id = $1", [ws.id]);
    expect(keys.rows[0].n).toBe(0);
    expect((await s.app.inject({ method: "DELETE", url: `/v1/workspaces/${ws.id}`, headers: bearer(s.config.adminToken) })).statusCode).toBe(404);
  });

  it("rotates a workspace's data key (admin): its connections keep working under the new version", async () => {
    const ws = await connectedWorkspace(s, "rotating");
    const before = await s.db.pool.query("SELECT version FROM workspace_key WHERE workspace_id = $1", [ws.id]);
    expect(before.rows.map((r) => r.version)).toEqual([1]);
    expect((await s.app.inject({ method: "POST", url: `/v1/workspaces/${ws.id}/rotate-key`, headers: bearer(ws.apiKey) })).statusCode).toBe(401);
    const res = await s.app.inject({ method: "POST", url: `/v1/workspaces/${ws.id}/rotate-key`, headers: bearer(s.config.adminToken) });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ version: 2, reencrypted: 1, reencrypted_by_kind: { connection: 1, subscription_secret: 0, subscription_previous_secret: 0, run_input: 0 }, unreadable: [] });
    const after = await s.db.pool.query("SELECT version FROM workspace_key WHERE workspace_id = $1", [ws.id]);
    expect(after.rows.map((r) => r.version)).toEqual([2]);
    const run = await s.execute(ws.apiKey, "SCALE_AI_LIST_PROJECTS", { input: {} });
    expect(run.body.successful).toBe(true);
    const test = await s.app.inject({ method: "POST", url: `/v1/connections/${ws.connectionId}/test`, headers: bearer(ws.apiKey) });
    expect(test.json().test.successful).toBe(true);
    expect((await s.app.inject({ method: "POST", url: `/v1/workspaces/01a223f1-0000-7000-8000-000000000000/rotate-key`, headers: bearer(s.config.adminToken) })).statusCode).toBe(404);
  });
});

