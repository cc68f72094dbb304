import { createHmac } from "node:crypto";
import { Signer } from "@fastify/cookie";
import { parseCookie, stringifySetCookie, type SetCookie } from "cookie";
import type { FastifyRequest } from "fastify";
import { bearerToken } from "./bearer-token";
import { sameSecret } from "../services/api-key-secret";

/** The admin session cookie of the browser pages under /admin (the queue dashboard). */
export const ADMIN_COOKIE = "nagent_admin";
const COOKIE_PATH = "/admin";
const EXPIRY = /^\d{13}$/;
/** Longer Cookie headers are refused unread (no browser sends one for our two cookies). */
const MAX_COOKIE_HEADER = 8192;

export interface AdminSessionOptions {
  readonly adminToken: string;
  /** Add `Secure` (production, behind TLS). */
  readonly secure: boolean;
  /** How long a login lasts. */
  readonly ttlMs?: number;
}

/**
 * A signer (`@fastify/cookie`: `<value>.<HMAC-SHA256>`, compared in constant time) whose key is derived from the admin
 * token for one purpose, so a cookie signed for one purpose is no cookie of another, and rotating the token ends
 * every session signed under it.
 */
export function signerFor(adminToken: string, purpose: string): Signer {
  return new Signer(createHmac("sha256", adminToken).update(`nagent-${purpose}`).digest());
}

/** The named cookie of a request's Cookie header (the first, as browsers send the most specific path first), or null. */
export function cookieOf(request: FastifyRequest, name: string): string | null {
  const header = request.headers.cookie;
  if (!header || header.length > MAX_COOKIE_HEADER) return null;
  return parseCookie(header)[name] ?? null;
}

/** A Set-Cookie value: HttpOnly (no script reads it), SameSite=Strict (no other site's page makes the browser send it). */
export function setCookie(name: string, value: string, options: { path: string; maxAgeSeconds: number; secure: boolean }): string {
  const cookie: SetCookie = { name, value, path: options.path, maxAge: options.maxAgeSeconds, httpOnly: true, sameSite: "strict" };
  return stringifySetCookie(options.secure ? { ...cookie, secure: true } : cookie);
}

/**
 * Admin access for browser pages: the admin token as a Bearer token (scripts, a header-injecting proxy), or a session
 * cookie set by the login form. The cookie holds no token: it is `<expiry>` signed with a key derived from the admin
 * token, so it expires by itself, cannot be forged without the token, and rotating the token ends every session.
 * HttpOnly, SameSite=Strict and scoped to /admin.
 */
export function createAdminSession(options: AdminSessionOptions) {
  const ttlMs = options.ttlMs ?? 8 * 3600_000;
  const signer = signerFor(options.adminToken, "admin-session");
  const cookie = (value: string, maxAgeSeconds: number) => setCookie(ADMIN_COOKIE, value, { path: COOKIE_PATH, maxAgeSeconds, secure: options.secure });

  function validCookie(request: FastifyRequest): boolean {
    const value = cookieOf(request, ADMIN_COOKIE);
    const unsigned = value === null ? null : signer.unsign(value);
    if (!unsigned?.valid || !EXPIRY.test(unsigned.value)) return false;
    const expiresAt = Number(unsigned.value);
    return expiresAt > Date.now() && expiresAt <= Date.now() + ttlMs;
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
      return cookie(signer.sign(String(Date.now() + ttlMs)), Math.floor(ttlMs / 1000));
    },
    /** A Set-Cookie value ending the session. */
    clear(): string {
      return cookie("", 0);
    },
  };
}

export type AdminSession = ReturnType<typeof createAdminSession>;
