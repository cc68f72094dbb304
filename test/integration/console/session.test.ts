import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, createTestApp, type TestApp } from "../../support/app";
import { seedRuns } from "../runs/seed";

const cookieOf = (setCookie: string | string[] | undefined) => String(setCookie).split(";")[0]!;

describe("console session and run stats", () => {
  let t: TestApp;
  let ws: { id: string; apiKey: string };
  let other: { id: string; apiKey: string };
  let cookie: string;
  let csrf: string;

  beforeAll(async () => {
    t = await createTestApp();
    ws = await t.createWorkspace("Console A");
    other = await t.createWorkspace("Console B");
    const res = await t.app.inject({ method: "POST", url: "/console/session", payload: { api_key: ws.apiKey } });
    expect(res.statusCode, res.body).toBe(201);
    cookie = cookieOf(res.headers["set-cookie"]);
    csrf = res.json().session.csrf_token;
  });
  afterAll(async () => t?.close());

  it("serves the page with a strict CSP and no inline code", async () => {
    const res = await t.app.inject({ method: "GET", url: "/console" });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-security-policy"]).toContain("default-src 'self'");
    expect(res.headers["content-security-policy"]).not.toContain("unsafe-inline");
    expect(res.body).not.toMatch(/<script>|<style>| style=/);
    expect((await t.app.inject({ method: "GET", url: "/console/assets/app.js" })).headers["content-type"]).toContain("text/javascript");
    expect((await t.app.inject({ method: "GET", url: "/console/assets/nope.js" })).statusCode).toBe(404);
    expect((await t.app.inject({ method: "GET", url: "/console/assets/..%2Fsrc%2Fapp.ts" })).statusCode).toBe(400);
  });

  it("issues an HttpOnly, SameSite=Strict cookie with a bounded lifetime that holds no key", async () => {
    const res = await t.app.inject({ method: "POST", url: "/console/session", payload: { api_key: ws.apiKey } });
    const header = String(res.headers["set-cookie"]);
    expect(header).toMatch(/HttpOnly/);
    expect(header).toMatch(/SameSite=Strict/);
    expect(header).toMatch(/Max-Age=28800/);
    expect(header).not.toContain(ws.apiKey.slice(3));
    expect(JSON.stringify(res.json())).not.toContain(ws.apiKey);
    expect((await t.app.inject({ method: "POST", url: "/console/session", payload: { api_key: "nk_wrong" } })).statusCode).toBe(401);
    expect((await t.app.inject({ method: "POST", url: "/console/session", payload: { api_key: "nk_\u0000" } })).statusCode).toBe(400);
  });

  it("authenticates /v1 reads by cookie, scoped to the key's workspace", async () => {
    const [mine, theirs] = await seedRuns(t.db.pool, [{ workspaceId: ws.id, status: "queued" }, { workspaceId: other.id, status: "queued" }]);
    const list = await t.app.inject({ method: "GET", url: "/v1/runs", headers: { cookie } });
    expect(list.statusCode).toBe(200);
    expect(list.json().runs.map((r: { id: string }) => r.id)).toContain(mine);
    expect(list.json().runs.map((r: { id: string }) => r.id)).not.toContain(theirs);
    expect((await t.app.inject({ method: "GET", url: `/v1/runs/${theirs}`, headers: { cookie } })).statusCode).toBe(404);
    const tampered = cookie.replace(ws.id, other.id);
    expect((await t.app.inject({ method: "GET", url: "/v1/runs", headers: { cookie: tampered } })).statusCode).toBe(401);
  });

  it("refuses a cookie-authenticated change without the CSRF token or from another origin", async () => {
    const [queued] = await seedRuns(t.db.pool, [{ workspaceId: ws.id, status: "queued" }]);
    const url = `/v1/runs/${queued}/cancel`;
    const none = await t.app.inject({ method: "POST", url, headers: { cookie } });
    expect(none.statusCode).toBe(403);
    expect(none.json().error.code).toBe("CSRF_REJECTED");
    expect((await t.app.inject({ method: "POST", url, headers: { cookie, "x-csrf-token": csrf.replace(/^./, (c) => (c === "A" ? "B" : "A")) } })).statusCode).toBe(403);
    expect((await t.app.inject({ method: "POST", url, headers: { cookie, "x-csrf-token": csrf, origin: "https://evil.example" } })).statusCode).toBe(403);
    expect((await t.app.inject({ method: "POST", url, headers: { cookie, "x-csrf-token": csrf, "sec-fetch-site": "cross-site" } })).statusCode).toBe(403);
    const ok = await t.app.inject({ method: "POST", url, headers: { cookie, "x-csrf-token": csrf, origin: "http://localhost:3000", host: "localhost:3000" } });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json().run.status).toBe("canceled");
  });

  it("ends a session when its key is revoked, and on sign-out", async () => {
    const key = await t.app.inject({ method: "POST", url: "/v1/api-keys", headers: bearer(ws.apiKey), payload: { name: "console" } });
    const { api_key: view, key: secret } = key.json() as { api_key: { id: string }; key: string };
    const signIn = await t.app.inject({ method: "POST", url: "/console/session", payload: { api_key: secret } });
    const c = cookieOf(signIn.headers["set-cookie"]);
    expect((await t.app.inject({ method: "GET", url: "/console/session", headers: { cookie: c } })).statusCode).toBe(200);
    expect((await t.app.inject({ method: "DELETE", url: `/v1/api-keys/${view.id}`, headers: bearer(ws.apiKey) })).statusCode).toBe(200);
    expect((await t.app.inject({ method: "GET", url: "/v1/runs", headers: { cookie: c } })).statusCode).toBe(401);
    expect((await t.app.inject({ method: "GET", url: "/console/session", headers: { cookie: c } })).statusCode).toBe(401);

    expect((await t.app.inject({ method: "DELETE", url: "/console/session", headers: { cookie } })).statusCode).toBe(403);
    const out = await t.app.inject({ method: "DELETE", url: "/console/session", headers: { cookie, "x-csrf-token": csrf } });
    expect(out.statusCode).toBe(204);
    expect(String(out.headers["set-cookie"])).toMatch(/nagent_console=; Max-Age=0/);
  });

  it("GET /v1/runs/stats counts the workspace's runs per minute by status, with latency percentiles", async () => {
    const fresh = await t.createWorkspace("Stats");
    const now = Date.now();
    await seedRuns(t.db.pool, [
      { workspaceId: fresh.id, status: "succeeded", createdAt: new Date(now - 1_000) },
      { workspaceId: fresh.id, status: "failed", createdAt: new Date(now - 2_000) },
      { workspaceId: fresh.id, status: "failed", createdAt: new Date(now - 5 * 60_000) },
      { workspaceId: fresh.id, status: "succeeded", createdAt: new Date(now - 3 * 3600_000) },
      { workspaceId: other.id, status: "failed", createdAt: new Date(now - 1_000) },
    ]);
    const res = await t.app.inject({ method: "GET", url: "/v1/runs/stats?window_minutes=60", headers: bearer(fresh.apiKey) });
    expect(res.statusCode, res.body).toBe(200);
    const stats = res.json();
    expect(stats.total).toBe(3);
    expect(stats.buckets).toHaveLength(2);
    expect(stats.buckets.at(-1)).toMatchObject({ succeeded: 1, failed: 1, queued: 0, p50_ms: 1000 });
    expect(stats.p95_ms).toBe(1000);
    expect((await t.app.inject({ method: "GET", url: "/v1/runs/stats?window_minutes=1441", headers: bearer(fresh.apiKey) })).statusCode).toBe(400);
    expect((await t.app.inject({ method: "GET", url: "/v1/runs/stats?window_minutes=240", headers: bearer(fresh.apiKey) })).json().total).toBe(4);
  });
});
