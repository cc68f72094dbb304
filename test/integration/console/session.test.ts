import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { buildApp } from "../../../apps/api/src/app";
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
    // Both in the current minute (at its start): now - 1 s and now - 2 s would straddle two minutes near a minute's turn.
    const thisMinute = new Date(Math.floor(now / 60_000) * 60_000);
    await seedRuns(t.db.pool, [
      { workspaceId: fresh.id, status: "succeeded", createdAt: thisMinute },
      { workspaceId: fresh.id, status: "failed", createdAt: thisMinute },
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

describe("console session signed in with the admin token", () => {
  let t: TestApp;
  let a: { id: string; apiKey: string };
  let b: { id: string; apiKey: string };
  let aRun: string;
  let bRun: string;
  const runIds = (body: { runs: { id: string }[] }) => body.runs.map((r) => r.id);

  async function adminSignIn(): Promise<{ cookie: string; csrf: string; body: { session: Record<string, unknown> }; setCookie: string }> {
    const res = await t.app.inject({ method: "POST", url: "/console/session", payload: { admin_token: t.config.adminToken } });
    expect(res.statusCode, res.body).toBe(201);
    return { cookie: cookieOf(res.headers["set-cookie"]), csrf: res.json().session.csrf_token, body: res.json(), setCookie: String(res.headers["set-cookie"]) };
  }
  async function pick(session: { cookie: string; csrf: string }, workspaceId: string): Promise<{ cookie: string; csrf: string; expiresAt: string }> {
    const res = await t.app.inject({ method: "POST", url: "/console/session/workspace", headers: { cookie: session.cookie, "x-csrf-token": session.csrf }, payload: { workspace_id: workspaceId } });
    expect(res.statusCode, res.body).toBe(200);
    return { cookie: cookieOf(res.headers["set-cookie"]), csrf: res.json().session.csrf_token, expiresAt: res.json().session.expires_at };
  }

  beforeAll(async () => {
    t = await createTestApp();
    a = await t.createWorkspace("Admin A");
    b = await t.createWorkspace("Admin B");
    [aRun, bRun] = await seedRuns(t.db.pool, [{ workspaceId: a.id, status: "queued" }, { workspaceId: b.id, status: "queued" }]) as [string, string];
  });
  afterAll(async () => t?.close());
  afterEach(() => { vi.useRealTimers(); });

  it("refuses a wrong admin token with 401, and a body with both or neither credential with 400", async () => {
    const wrong = await t.app.inject({ method: "POST", url: "/console/session", payload: { admin_token: `${t.config.adminToken}x` } });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json().error.code).toBe("UNAUTHORIZED");
    expect(wrong.headers["set-cookie"]).toBeUndefined();
    expect((await t.app.inject({ method: "POST", url: "/console/session", payload: { admin_token: a.apiKey } })).statusCode).toBe(401);
    const both = await t.app.inject({ method: "POST", url: "/console/session", payload: { admin_token: t.config.adminToken, api_key: a.apiKey } });
    expect(both.statusCode).toBe(400);
    expect(both.json().error.code).toBe("VALIDATION_FAILED");
    expect((await t.app.inject({ method: "POST", url: "/console/session", payload: {} })).statusCode).toBe(400);
    expect((await t.app.inject({ method: "POST", url: "/console/session", payload: { admin_token: "x".repeat(513) } })).statusCode).toBe(400);
  });

  it("issues an HttpOnly, SameSite=Strict admin cookie of one hour that holds no token and acts in no workspace until one is picked", async () => {
    const { cookie, body, setCookie } = await adminSignIn();
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Strict/);
    expect(setCookie).toMatch(/Max-Age=3600;/);
    expect(setCookie).not.toContain(t.config.adminToken);
    expect(JSON.stringify(body)).not.toContain(t.config.adminToken);
    expect(t.logs.join("\n")).not.toContain(t.config.adminToken);
    expect(body.session).toMatchObject({ kind: "admin", workspace_id: null, workspace_name: null, api_key_id: null });
    const runs = await t.app.inject({ method: "GET", url: "/v1/runs", headers: { cookie } });
    expect(runs.statusCode).toBe(401);
    expect(runs.json().error.message).toMatch(/pick/);
    // The admin cookie is not the admin token: the admin routes still want the token as a Bearer.
    expect((await t.app.inject({ method: "GET", url: "/v1/workspaces", headers: { cookie } })).statusCode).toBe(401);
  });

  it("lists the workspaces to pick from, paged by cursor and searchable, to admin sessions only", async () => {
    const admin = await adminSignIn();
    const all = await t.app.inject({ method: "GET", url: "/console/workspaces", headers: { cookie: admin.cookie } });
    expect(all.statusCode, all.body).toBe(200);
    expect(all.json().workspaces.map((w: { name: string }) => w.name)).toEqual(["Admin A", "Admin B"]);
    const first = (await t.app.inject({ method: "GET", url: "/console/workspaces?limit=1", headers: { cookie: admin.cookie } })).json();
    expect(first.workspaces.map((w: { id: string }) => w.id)).toEqual([a.id]);
    const second = (await t.app.inject({ method: "GET", url: `/console/workspaces?limit=1&cursor=${first.next_cursor}`, headers: { cookie: admin.cookie } })).json();
    expect(second).toEqual({ workspaces: [expect.objectContaining({ id: b.id, name: "Admin B" })], next_cursor: null });
    const found = (await t.app.inject({ method: "GET", url: "/console/workspaces?q=min%20b", headers: { cookie: admin.cookie } })).json();
    expect(found.workspaces.map((w: { id: string }) => w.id)).toEqual([b.id]);
    const badCursor = await t.app.inject({ method: "GET", url: "/console/workspaces?cursor=bm9wZQ", headers: { cookie: admin.cookie } });
    expect(badCursor.statusCode).toBe(400);
    expect(badCursor.json().error.code).toBe("INVALID_CURSOR");
    expect((await t.app.inject({ method: "GET", url: "/console/workspaces?limit=201", headers: { cookie: admin.cookie } })).statusCode).toBe(400);
    expect((await t.app.inject({ method: "GET", url: "/console/workspaces" })).statusCode).toBe(401);

    // The same listing for scripts, with the admin token as a Bearer.
    const byToken = await t.app.inject({ method: "GET", url: "/v1/workspaces?limit=1", headers: bearer(t.config.adminToken) });
    expect(byToken.statusCode, byToken.body).toBe(200);
    expect(byToken.json().workspaces.map((w: { id: string }) => w.id)).toEqual([a.id]);
    expect(byToken.json().next_cursor).toEqual(expect.any(String));
    expect((await t.app.inject({ method: "GET", url: "/v1/workspaces", headers: bearer(a.apiKey) })).statusCode).toBe(401);
  });

  it("acts in the picked workspace only, and switches to another (same expiry, new CSRF token)", async () => {
    const admin = await adminSignIn();
    const inA = await pick(admin, a.id);
    const listA = await t.app.inject({ method: "GET", url: "/v1/runs", headers: { cookie: inA.cookie } });
    expect(listA.statusCode, listA.body).toBe(200);
    expect(runIds(listA.json())).toEqual([aRun]);
    expect((await t.app.inject({ method: "GET", url: `/v1/runs/${bRun}`, headers: { cookie: inA.cookie } })).statusCode).toBe(404);
    const who = (await t.app.inject({ method: "GET", url: "/console/session", headers: { cookie: inA.cookie } })).json().session;
    expect(who).toMatchObject({ kind: "admin", workspace_id: a.id, workspace_name: "Admin A", api_key_id: null, csrf_token: inA.csrf });

    const inB = await pick(inA, b.id);
    expect(inB.expiresAt).toBe(inA.expiresAt);
    expect(inB.csrf).not.toBe(inA.csrf);
    const listB = await t.app.inject({ method: "GET", url: "/v1/runs", headers: { cookie: inB.cookie } });
    expect(runIds(listB.json())).toEqual([bRun]);
    expect((await t.app.inject({ method: "GET", url: `/v1/runs/${aRun}`, headers: { cookie: inB.cookie } })).statusCode).toBe(404);
    // The cookie names its workspace under the signature: editing it back to A is a forgery.
    expect((await t.app.inject({ method: "GET", url: "/v1/runs", headers: { cookie: inB.cookie.replace(b.id, a.id) } })).statusCode).toBe(401);

    const unknown = await t.app.inject({ method: "POST", url: "/console/session/workspace", headers: { cookie: inB.cookie, "x-csrf-token": inB.csrf }, payload: { workspace_id: "00000000-0000-4000-8000-000000000000" } });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.code).toBe("NOT_FOUND");
  });

  it("refuses a forged cross-site switch or change made with the admin cookie", async () => {
    const admin = await pick(await adminSignIn(), a.id);
    const url = "/console/session/workspace";
    const payload = { workspace_id: b.id };
    const tokenless = await t.app.inject({ method: "POST", url, headers: { cookie: admin.cookie }, payload });
    expect(tokenless.statusCode).toBe(403);
    expect(tokenless.json().error.code).toBe("CSRF_REJECTED");
    expect((await t.app.inject({ method: "POST", url, headers: { cookie: admin.cookie, "x-csrf-token": admin.csrf, origin: "https://evil.example" }, payload })).statusCode).toBe(403);
    expect((await t.app.inject({ method: "POST", url, headers: { cookie: admin.cookie, "x-csrf-token": admin.csrf, "sec-fetch-site": "cross-site" }, payload })).statusCode).toBe(403);
    const cancel = `/v1/runs/${aRun}/cancel`;
    const forged = await t.app.inject({ method: "POST", url: cancel, headers: { cookie: admin.cookie, origin: "https://evil.example" } });
    expect(forged.statusCode).toBe(403);
    expect(forged.json().error.code).toBe("CSRF_REJECTED");
    expect((await t.db.pool.query("SELECT status FROM run WHERE id = $1", [aRun])).rows[0].status).toBe("queued");
    // Another workspace's run, with a valid token: 404, and it stays as it was.
    expect((await t.app.inject({ method: "POST", url: `/v1/runs/${bRun}/cancel`, headers: { cookie: admin.cookie, "x-csrf-token": admin.csrf } })).statusCode).toBe(404);
    expect((await t.db.pool.query("SELECT status FROM run WHERE id = $1", [bRun])).rows[0].status).toBe("queued");
    // Still in A: the refused switch changed nothing.
    expect(runIds((await t.app.inject({ method: "GET", url: "/v1/runs", headers: { cookie: admin.cookie } })).json())).toEqual([aRun]);
  });

  it("never lets a key session switch workspace or list workspaces", async () => {
    const signIn = await t.app.inject({ method: "POST", url: "/console/session", payload: { api_key: a.apiKey } });
    const cookie = cookieOf(signIn.headers["set-cookie"]);
    const csrf = signIn.json().session.csrf_token;
    expect(signIn.json().session).toMatchObject({ kind: "key", workspace_id: a.id, workspace_name: "Admin A" });
    const refused = await t.app.inject({ method: "POST", url: "/console/session/workspace", headers: { cookie, "x-csrf-token": csrf }, payload: { workspace_id: b.id } });
    expect(refused.statusCode).toBe(404);
    expect(refused.json().error.code).toBe("NOT_FOUND");
    expect(refused.headers["set-cookie"]).toBeUndefined();
    const listing = await t.app.inject({ method: "GET", url: "/console/workspaces", headers: { cookie } });
    expect(listing.statusCode).toBe(404);
    expect(listing.json().error.code).toBe("NOT_FOUND");
    expect(runIds((await t.app.inject({ method: "GET", url: "/v1/runs", headers: { cookie } })).json())).toEqual([aRun]);
    // Nor can a key cookie be rewritten into an admin one.
    const [, value] = cookie.split("=") as [string, string];
    const [expires, , workspace, mac] = value.split(".");
    expect((await t.app.inject({ method: "GET", url: "/v1/runs", headers: { cookie: `nagent_console=${expires}.admin.${workspace}.${mac}` } })).statusCode).toBe(401);
  });

  it("expires after an hour, while a key session lasts its eight", async () => {
    const admin = await pick(await adminSignIn(), a.id);
    const key = cookieOf((await t.app.inject({ method: "POST", url: "/console/session", payload: { api_key: a.apiKey } })).headers["set-cookie"]);
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 59 * 60_000);
    expect((await t.app.inject({ method: "GET", url: "/v1/runs", headers: { cookie: admin.cookie } })).statusCode).toBe(200);
    vi.setSystemTime(Date.now() + 2 * 60_000);
    expect((await t.app.inject({ method: "GET", url: "/v1/runs", headers: { cookie: admin.cookie } })).statusCode).toBe(401);
    expect((await t.app.inject({ method: "GET", url: "/console/session", headers: { cookie: admin.cookie } })).statusCode).toBe(401);
    expect((await t.app.inject({ method: "GET", url: "/v1/runs", headers: { cookie: key } })).statusCode).toBe(200);
  });

  it("ends when its workspace is deleted (the session stays, to pick another) or the admin token is rotated", async () => {
    const doomed = await t.createWorkspace("Doomed");
    const admin = await pick(await adminSignIn(), doomed.id);
    expect((await t.app.inject({ method: "GET", url: "/v1/runs", headers: { cookie: admin.cookie } })).statusCode).toBe(200);
    expect((await t.app.inject({ method: "DELETE", url: `/v1/workspaces/${doomed.id}`, headers: bearer(t.config.adminToken) })).statusCode).toBe(204);
    expect((await t.app.inject({ method: "GET", url: "/v1/runs", headers: { cookie: admin.cookie } })).statusCode).toBe(401);
    const who = await t.app.inject({ method: "GET", url: "/console/session", headers: { cookie: admin.cookie } });
    expect(who.json().session).toMatchObject({ kind: "admin", workspace_id: null });
    const listing = (await t.app.inject({ method: "GET", url: "/console/workspaces", headers: { cookie: admin.cookie } })).json();
    expect(listing.workspaces.map((w: { id: string }) => w.id)).not.toContain(doomed.id);
    const refused = await t.app.inject({ method: "POST", url: "/console/session/workspace", headers: { cookie: admin.cookie, "x-csrf-token": admin.csrf }, payload: { workspace_id: doomed.id } });
    expect(refused.statusCode).toBe(404);

    const inA = await pick(admin, a.id);
    const rotated = await buildApp({ ...t.deps, config: { ...t.config, adminToken: `nat_${"r".repeat(43)}` } });
    try {
      expect((await rotated.inject({ method: "GET", url: "/v1/runs", headers: { cookie: inA.cookie } })).statusCode).toBe(401);
      expect((await rotated.inject({ method: "GET", url: "/console/session", headers: { cookie: inA.cookie } })).statusCode).toBe(401);
      expect((await rotated.inject({ method: "POST", url: "/console/session", payload: { admin_token: t.config.adminToken } })).statusCode).toBe(401);
    } finally {
      await rotated.close();
    }
    expect((await t.app.inject({ method: "GET", url: "/v1/runs", headers: { cookie: inA.cookie } })).statusCode).toBe(200);
  });

  it("signs out", async () => {
    const admin = await pick(await adminSignIn(), a.id);
    expect((await t.app.inject({ method: "DELETE", url: "/console/session", headers: { cookie: admin.cookie } })).statusCode).toBe(403);
    const out = await t.app.inject({ method: "DELETE", url: "/console/session", headers: { cookie: admin.cookie, "x-csrf-token": admin.csrf } });
    expect(out.statusCode).toBe(204);
    expect(String(out.headers["set-cookie"])).toMatch(/nagent_console=; Max-Age=0/);
  });
});
