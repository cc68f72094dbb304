import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, captureLogger, createTestApp, startOtherApi, type TestApp } from "../../support/app";

let t: TestApp;
beforeAll(async () => (t = await createTestApp()));
afterAll(() => t.close());

describe("workspaces and API keys", () => {
  it("creates a workspace with the admin token and shows its first key once", async () => {
    const res = await t.app.inject({ method: "POST", url: "/v1/workspaces", headers: bearer(t.config.adminToken), payload: { name: "Acme" } });
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body.workspace).toMatchObject({ name: "Acme" });
    expect(Object.keys(body.workspace).sort()).toEqual(["created_at", "id", "name"]);
    expect(body.api_key).toMatch(/^nk_[A-Za-z0-9_-]{43}$/);
    const list = await t.app.inject({ method: "GET", url: "/v1/api-keys", headers: bearer(body.api_key) });
    expect(list.statusCode).toBe(200);
    const keys = list.json().api_keys;
    expect(keys).toHaveLength(1);
    expect(keys[0].prefix).toBe(body.api_key.slice(0, 15));
    expect(JSON.stringify(keys)).not.toContain(body.api_key);
  });

  it("refuses workspace creation without the admin token, or with a workspace key", async () => {
    const ws = await t.createWorkspace();
    for (const headers of [{}, bearer("wrong-token-wrong-token-wrong-token"), bearer(ws.apiKey)]) {
      const res = await t.app.inject({ method: "POST", url: "/v1/workspaces", headers, payload: { name: "x" } });
      expect(res.statusCode).toBe(401);
      expect(res.json().error.code).toBe("UNAUTHORIZED");
    }
  });

  it.each([
    ["missing", () => ({})],
    ["non-Bearer", () => ({ authorization: "Basic abc" })],
    ["malformed", () => bearer("nk_short")],
    ["unknown", () => bearer(`nk_${"A".repeat(43)}`)],
    ["admin-token-as-workspace", () => bearer(t.config.adminToken)],
  ])("answers 401 UNAUTHORIZED for a %s key", async (_name, headers) => {
    const res = await t.app.inject({ method: "GET", url: "/v1/api-keys", headers: headers() });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ error: { code: "UNAUTHORIZED" }, request_id: expect.any(String) });
  });

  it("stops a revoked key at once, and never revokes the last active key", async () => {
    const ws = await t.createWorkspace();
    const created = await t.app.inject({ method: "POST", url: "/v1/api-keys", headers: bearer(ws.apiKey), payload: { name: "ci" } });
    expect(created.statusCode).toBe(201);
    const second = created.json() as { api_key: { id: string }; key: string };
    expect((await t.app.inject({ method: "GET", url: "/v1/api-keys", headers: bearer(second.key) })).statusCode).toBe(200);

    const revoked = await t.app.inject({ method: "DELETE", url: `/v1/api-keys/${second.api_key.id}`, headers: bearer(ws.apiKey) });
    expect(revoked.statusCode).toBe(200);
    expect(revoked.json().api_key.revoked_at).toEqual(expect.any(String));
    expect((await t.app.inject({ method: "GET", url: "/v1/api-keys", headers: bearer(second.key) })).statusCode).toBe(401);

    const keys = (await t.app.inject({ method: "GET", url: "/v1/api-keys", headers: bearer(ws.apiKey) })).json().api_keys as { id: string; revoked_at: string | null }[];
    const first = keys.find((k) => k.revoked_at === null)!;
    const last = await t.app.inject({ method: "DELETE", url: `/v1/api-keys/${first.id}`, headers: bearer(ws.apiKey) });
    expect(last.statusCode).toBe(409);
    expect(last.json().error.code).toBe("CONFLICT");
  });

  it("answers 404 for another workspace's key, never 403", async () => {
    const a = await t.createWorkspace("A");
    const b = await t.createWorkspace("B");
    const aKeys = (await t.app.inject({ method: "GET", url: "/v1/api-keys", headers: bearer(a.apiKey) })).json().api_keys as { id: string }[];
    const res = await t.app.inject({ method: "DELETE", url: `/v1/api-keys/${aKeys[0]!.id}`, headers: bearer(b.apiKey) });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe("NOT_FOUND");
    const bKeys = (await t.app.inject({ method: "GET", url: "/v1/api-keys", headers: bearer(b.apiKey) })).json().api_keys as { id: string }[];
    expect(bKeys.map((k) => k.id)).not.toContain(aKeys[0]!.id);
  });

  it("records last_used_at", async () => {
    const ws = await t.createWorkspace();
    await t.app.inject({ method: "GET", url: "/v1/api-keys", headers: bearer(ws.apiKey) });
    await expect.poll(async () => {
      const keys = (await t.app.inject({ method: "GET", url: "/v1/api-keys", headers: bearer(ws.apiKey) })).json().api_keys;
      return keys[0].last_used_at;
    }).toEqual(expect.any(String));
  });

  it("a key revoked through one API process stops working in another that had it cached", async () => {
    // A second API process over the same database: its own cache and its own LISTEN connection.
    const other = await startOtherApi(t, { logger: captureLogger("silent").logger });
    try {
      const ws = await t.createWorkspace();
      const created = (await t.app.inject({ method: "POST", url: "/v1/api-keys", headers: bearer(ws.apiKey), payload: { name: "second" } })).json();
      expect((await other.app.inject({ method: "GET", url: "/v1/api-keys", headers: bearer(created.key) })).statusCode).toBe(200); // now cached there
      expect((await t.app.inject({ method: "DELETE", url: `/v1/api-keys/${created.api_key.id}`, headers: bearer(ws.apiKey) })).statusCode).toBe(200);
      await expect.poll(async () => (await other.app.inject({ method: "GET", url: "/v1/api-keys", headers: bearer(created.key) })).statusCode, { timeout: 2_000, interval: 20 }).toBe(401);
    } finally {
      await other.close();
    }
  });
});
