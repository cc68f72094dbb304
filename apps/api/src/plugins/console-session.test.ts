import { describe, expect, it } from "vitest";
import type { FastifyRequest } from "fastify";
import { createAdminSession } from "./admin-session";
import { createConsoleSession } from "./console-session";

const TOKEN = `nat_${"a".repeat(43)}`;
const principal = { apiKeyId: "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", workspaceId: "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c" };
const withCookie = (setCookie: string): FastifyRequest => ({ headers: { cookie: setCookie.split(";")[0] } }) as FastifyRequest;

describe("console session cookie", () => {
  const session = createConsoleSession({ secret: TOKEN, secure: true });

  it("sets Path=/, Max-Age, HttpOnly, Secure and SameSite=Strict, and reads back what it issued", () => {
    const { cookie, session: issued } = session.issue(principal);
    expect(cookie).toMatch(/^nagent_console=[^;]+; Max-Age=28800; Path=\/; HttpOnly; Secure; SameSite=Strict$/);
    expect(session.read(withCookie(cookie))).toEqual(issued);
    expect(createConsoleSession({ secret: TOKEN, secure: false }).clear()).toBe("nagent_console=; Max-Age=0; Path=/; HttpOnly; SameSite=Strict");
  });

  it("refuses a cookie signed under another admin token, an altered one, and one signed for the admin dashboard", () => {
    const { cookie } = session.issueAdmin(principal.workspaceId);
    expect(session.read(withCookie(cookie))).toMatchObject({ kind: "admin", workspaceId: principal.workspaceId });
    expect(createConsoleSession({ secret: `${TOKEN}x`, secure: true }).read(withCookie(cookie))).toBeNull();
    expect(session.read(withCookie(cookie.replace(principal.workspaceId, principal.apiKeyId)))).toBeNull();
    const dashboard = createAdminSession({ adminToken: TOKEN, secure: true }).issue().replace("nagent_admin=", "nagent_console=");
    expect(session.read(withCookie(dashboard))).toBeNull();
    expect(session.read({ headers: { cookie: `${cookie.split(";")[0]}; pad=${"x".repeat(8192)}` } } as FastifyRequest)).toBeNull();
  });
});

describe("admin dashboard cookie", () => {
  it("is scoped to /admin and ends when the admin token rotates", () => {
    const admin = createAdminSession({ adminToken: TOKEN, secure: false });
    const cookie = admin.issue();
    expect(cookie).toMatch(/^nagent_admin=\d{13}\.[^;]+; Max-Age=28800; Path=\/admin; HttpOnly; SameSite=Strict$/);
    expect(admin.authenticate(withCookie(cookie))).toBe("cookie");
    expect(createAdminSession({ adminToken: `${TOKEN}x`, secure: false }).authenticate(withCookie(cookie))).toBeNull();
  });
});
