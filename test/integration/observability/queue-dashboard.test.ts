import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, createTestApp, type TestApp } from "../../support/app";

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t?.close();
});

const html = { accept: "text/html,application/xhtml+xml" };

async function login(token: string) {
  return t.app.inject({ method: "POST", url: "/admin/login", headers: { "content-type": "application/x-www-form-urlencoded" }, payload: new URLSearchParams({ token }).toString() });
}

/** The session cookie (name=value) from a Set-Cookie header. */
function cookieOf(setCookie: unknown): string {
  const header = Array.isArray(setCookie) ? String(setCookie[0]) : String(setCookie);
  return header.split(";")[0]!;
}

describe("queue dashboard at /admin/queues", () => {
  it("refuses every page, asset and API route without the admin token", async () => {
    const entry = await t.app.inject({ method: "GET", url: "/admin/queues/", headers: bearer(t.config.adminToken) });
    expect(entry.statusCode).toBe(200);
    const asset = /src="(static\/js\/[^"]+\.js)"/.exec(entry.body)?.[1];
    expect(asset).toBeDefined();

    for (const url of ["/admin/queues", "/admin/queues/", "/admin/queues/queue/runs", `/admin/queues/${asset}`, "/admin/queues/api/queues", "/admin/queues/api/redis/stats"]) {
      for (const headers of [{}, bearer("not-the-admin-token-0123456789abcdef"), bearer((await t.createWorkspace()).apiKey), { cookie: "nagent_admin=9999999999999.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" }]) {
        const res = await t.app.inject({ method: "GET", url, headers });
        expect(res.statusCode, url).toBe(401);
        expect(res.json().error.code).toBe("UNAUTHORIZED");
      }
    }
    const put = await t.app.inject({ method: "PUT", url: "/admin/queues/api/queues/runs/pause" });
    expect(put.statusCode).toBe(401);
    // A browser asking for the page is sent to the login form instead.
    const browser = await t.app.inject({ method: "GET", url: "/admin/queues/", headers: html });
    expect(browser.statusCode).toBe(303);
    expect(browser.headers.location).toBe("/admin/login");
  });

  it("serves the dashboard, its assets (offline, from the package) and the runs and maintenance queues with the admin token", async () => {
    const entry = await t.app.inject({ method: "GET", url: "/admin/queues/", headers: bearer(t.config.adminToken) });
    expect(entry.headers["content-type"]).toMatch(/^text\/html/);
    expect(entry.body).toContain('<base href="/admin/queues/"');
    const assets = [...entry.body.matchAll(/(?:src|href)="(static\/[^"]+)"/g)].map((m) => m[1]!);
    expect(assets.some((a) => a.endsWith(".js"))).toBe(true);
    expect(assets.some((a) => a.endsWith(".css"))).toBe(true);
    for (const asset of assets) {
      const res = await t.app.inject({ method: "GET", url: `/admin/queues/${asset}`, headers: bearer(t.config.adminToken) });
      expect(res.statusCode, asset).toBe(200);
    }

    const api = await t.app.inject({ method: "GET", url: "/admin/queues/api/queues", headers: bearer(t.config.adminToken) });
    expect(api.statusCode).toBe(200);
    const names = (api.json() as { queues: { name: string }[] }).queues.map((q) => q.name).sort();
    expect(names).toEqual(["maintenance", "runs"]);
  });

  it("logs in through a POSTed form that sets an HttpOnly, SameSite=Strict session cookie holding no token", async () => {
    const wrong = await login("not-the-admin-token-0123456789abcdef");
    expect(wrong.statusCode).toBe(401);
    expect(wrong.headers["set-cookie"]).toBeUndefined();

    const form = await t.app.inject({ method: "GET", url: "/admin/login" });
    expect(form.statusCode).toBe(200);
    expect(form.body).toContain('method="post"');

    const ok = await login(t.config.adminToken);
    expect(ok.statusCode).toBe(303);
    expect(ok.headers.location).toBe("/admin/queues/");
    const setCookie = String(ok.headers["set-cookie"]);
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Strict/);
    expect(setCookie).toMatch(/Path=\/admin/);
    expect(setCookie).not.toContain(t.config.adminToken);
    const cookie = cookieOf(ok.headers["set-cookie"]);

    const page = await t.app.inject({ method: "GET", url: "/admin/queues/", headers: { cookie, ...html } });
    expect(page.statusCode).toBe(200);
    const api = await t.app.inject({ method: "GET", url: "/admin/queues/api/queues", headers: { cookie } });
    expect(api.statusCode).toBe(200);

    // A tampered cookie, and a state-changing call from another origin, are refused.
    const tampered = cookie.replace(/.$/, (c) => (c === "A" ? "B" : "A"));
    expect((await t.app.inject({ method: "GET", url: "/admin/queues/api/queues", headers: { cookie: tampered } })).statusCode).toBe(401);
    const crossSite = await t.app.inject({ method: "PUT", url: "/admin/queues/api/queues/runs/pause", headers: { cookie, origin: "https://evil.example" } });
    expect(crossSite.statusCode).toBe(401);

    const logout = await t.app.inject({ method: "POST", url: "/admin/logout", headers: { cookie } });
    expect(logout.statusCode).toBe(303);
    expect(String(logout.headers["set-cookie"])).toMatch(/Max-Age=0/);
  });

  it("keeps the dashboard and login routes out of the OpenAPI document", async () => {
    const doc = (await t.app.inject({ method: "GET", url: "/openapi.json" })).json() as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths).filter((p) => p.startsWith("/admin"))).toEqual([]);
    expect(doc.paths["/metrics"]).toBeDefined();
    expect(doc.paths["/v1/runs/{id}/events"]).toBeDefined();
  });
});
