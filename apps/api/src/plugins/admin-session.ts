import { createHmac, timingSafeEqual } from "node:crypto";
import type { FastifyRequest } from "fastify";
import { bearerToken } from "./auth";
import { sameSecret } from "../services/api-key-secret";

/** The admin session cookie of the browser pages under /admin (the queue dashboard). */
export const ADMIN_COOKIE = "nagent_admin";
const COOKIE_PATH = "/admin";
const VALUE = /^(\d{13})\.([A-Za-z0-9_-]{43})$/;

export interface AdminSessionOptions {
  readonly adminToken: string;
  /** Add `Secure` (production, behind TLS). */
  readonly secure: boolean;
  /** How long a login lasts. */
  readonly ttlMs?: number;
}

/**
 * Admin access for browser pages: the admin token as a Bearer token (scripts, a header-injecting proxy), or a session
 * cookie set by the login form. The cookie holds no token: it is `<expiry>.<HMAC-SHA256 of the expiry keyed by the
 * admin token>`, so it expires by itself, cannot be forged without the token, and rotating the token ends every
 * session. HttpOnly (no script reads it), SameSite=Strict (no other site's page can make the browser send it) and
 * scoped to /admin.
 */
export function createAdminSession(options: AdminSessionOptions) {
  const ttlMs = options.ttlMs ?? 8 * 3600_000;
  const sign = (expires: string) => createHmac("sha256", options.adminToken).update(`nagent-admin-session:${expires}`).digest("base64url");
  const attributes = `Path=${COOKIE_PATH}; HttpOnly; SameSite=Strict${options.secure ? "; Secure" : ""}`;

  function validCookie(request: FastifyRequest): boolean {
    const value = cookieValue(request.headers.cookie, ADMIN_COOKIE);
    const match = value === null ? null : VALUE.exec(value);
    if (!match) return false;
    const [, expires, mac] = match as unknown as [string, string, string];
    const expiresAt = Number(expires);
    if (expiresAt <= Date.now() || expiresAt > Date.now() + ttlMs) return false;
    const expected = Buffer.from(sign(expires));
    const given = Buffer.from(mac);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  return {
    /** How the request proved it is the admin, if it did. */
    authenticate(request: FastifyRequest): "bearer" | "cookie" | null {
      const token = bearerToken(request);
      if (token !== null) return sameSecret(token, options.adminToken) ? "bearer" : null;
      return validCookie(request) ? "cookie" : null;
    },
    /** True when the login form's token is the admin token. */
    checkToken(token: string): boolean {
      return sameSecret(token, options.adminToken);
    },
    /** A Set-Cookie value starting a session. */
    issue(): string {
      const expires = String(Date.now() + ttlMs);
      return `${ADMIN_COOKIE}=${expires}.${sign(expires)}; Max-Age=${Math.floor(ttlMs / 1000)}; ${attributes}`;
    },
    /** A Set-Cookie value ending the session. */
    clear(): string {
      return `${ADMIN_COOKIE}=; Max-Age=0; ${attributes}`;
    },
  };
}

export type AdminSession = ReturnType<typeof createAdminSession>;

export function cookieValue(header: string | undefined, name: string): string | null {
  if (!header || header.length > 8192) return null;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}
