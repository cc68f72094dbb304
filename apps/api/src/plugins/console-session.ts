import { createHmac, timingSafeEqual } from "node:crypto";
import type { FastifyRequest } from "fastify";
import type { Principal } from "../services/api-keys";
import { cookieOf, setCookie, signerFor } from "./admin-session";

/** The session cookie of the operator console (/console), sent to /console and to the /v1 routes it calls. */
export const CONSOLE_COOKIE = "nagent_console";
/** The header a cookie-authenticated request that changes state must carry (double submit of a signed token). */
export const CSRF_HEADER = "x-csrf-token";
const UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";
/** What the cookie signs: `<expiry>.<api key id>.<workspace id>` or `<expiry>.admin.<workspace id | none>`. */
const BODY = new RegExp(`^(\\d{13})\\.(${UUID}|admin)\\.(${UUID}|none)$`);
export const SAFE_METHODS: ReadonlySet<string> = new Set(["GET", "HEAD", "OPTIONS"]);

export interface ConsoleSessionOptions {
  /** The server's secret the cookie is signed with (the admin token: rotating it ends every session). */
  readonly secret: string;
  /** Add `Secure` (production, behind TLS). */
  readonly secure: boolean;
  /** How long a sign-in with a workspace key lasts; 8 hours unless given. */
  readonly ttlMs?: number;
  /** How long a sign-in with the admin token lasts (switching workspace does not extend it); 1 hour unless given. */
  readonly adminTtlMs?: number;
}

/** A session signed in with a workspace API key: it acts as that key, in its workspace, and cannot switch. */
export interface KeyConsoleSession {
  readonly kind: "key";
  readonly principal: Principal;
  readonly expiresAt: number;
  readonly csrfToken: string;
}

/** A session signed in with the admin token: it acts in the workspace it picked (null before it picks one). */
export interface AdminConsoleSession {
  readonly kind: "admin";
  readonly workspaceId: string | null;
  readonly expiresAt: number;
  readonly csrfToken: string;
}

export type ConsoleSessionState = KeyConsoleSession | AdminConsoleSession;

/**
 * Sessions of the operator console, as a signed cookie (`@fastify/cookie`'s signer, see admin-session.ts):
 * `<expiry>.<api key id>.<workspace id>.<signature>` for a workspace key, `<expiry>.admin.<workspace id | none>.<signature>`
 * for the admin token. The signed text names its kind (a key id is a UUID, never `admin`), so neither kind can be turned
 * into the other. It holds no secret (the key or token never reaches the browser's storage: it is exchanged once for
 * this cookie), expires by itself, and cannot be forged without the server's secret (the admin token: rotating it ends
 * every session). HttpOnly, SameSite=Strict, Path=/. What stands behind a session is checked on every request (see
 * auth.ts): the key is not revoked, the workspace exists.
 *
 * CSRF: every state-changing request authenticated by the cookie must send the session's CSRF token (an HMAC of the
 * cookie, so it is bound to the session and need not be stored) in X-CSRF-Token, and an Origin, if given, must be ours.
 */
export function createConsoleSession(options: ConsoleSessionOptions) {
  const ttlMs = options.ttlMs ?? 8 * 3600_000;
  const adminTtlMs = options.adminTtlMs ?? 3600_000;
  const signer = signerFor(options.secret, "console-session");
  const csrfOf = (value: string) => createHmac("sha256", options.secret).update(`nagent-console-csrf:${value}`).digest("base64url");
  const cookie = (value: string, maxAgeSeconds: number) => setCookie(CONSOLE_COOKIE, value, { path: "/", maxAgeSeconds, secure: options.secure });

  function read(request: FastifyRequest): ConsoleSessionState | null {
    const value = cookieOf(request, CONSOLE_COOKIE);
    const unsigned = value === null ? null : signer.unsign(value);
    const match = unsigned?.valid ? BODY.exec(unsigned.value) : null;
    if (!value || !match) return null;
    const [, expires, apiKeyId, workspaceId] = match as unknown as [string, string, string, string];
    const admin = apiKeyId === "admin";
    if (!admin && workspaceId === "none") return null;
    const expiresAt = Number(expires);
    if (expiresAt <= Date.now() || expiresAt > Date.now() + (admin ? adminTtlMs : ttlMs)) return null;
    const csrfToken = csrfOf(value);
    if (admin) return { kind: "admin", workspaceId: workspaceId === "none" ? null : workspaceId, expiresAt, csrfToken };
    return { kind: "key", principal: { apiKeyId, workspaceId }, expiresAt, csrfToken };
  }

  return {
    ttlMs,
    adminTtlMs,
    /** The session a request's cookie proves, if any (the key behind it is not checked here). */
    read,
    /** True when a cookie-authenticated request may change state: the right CSRF token, and no foreign Origin. */
    mayMutate(request: FastifyRequest, session: ConsoleSessionState): boolean {
      const token = request.headers[CSRF_HEADER];
      return typeof token === "string" && sameText(token, session.csrfToken) && sameOrigin(request);
    },
    /** A Set-Cookie value starting a session for a key, and the session it starts. */
    issue(principal: Principal): { cookie: string; session: KeyConsoleSession } {
      const expiresAt = Date.now() + ttlMs;
      const value = signer.sign(`${expiresAt}.${principal.apiKeyId}.${principal.workspaceId}`);
      return { cookie: cookie(value, Math.floor(ttlMs / 1000)), session: { kind: "key", principal, expiresAt, csrfToken: csrfOf(value) } };
    },
    /**
     * A Set-Cookie value starting (or, with the old expiry, switching) an admin session, acting in a workspace or in
     * none yet, and the session it starts. The workspace is not checked here.
     */
    issueAdmin(workspaceId: string | null, until?: number): { cookie: string; session: AdminConsoleSession } {
      // One clock reading: a new session's Max-Age is the whole hour, not a second less when the clock ticks between two.
      const now = Date.now();
      const expiresAt = until ?? now + adminTtlMs;
      const value = signer.sign(`${expiresAt}.admin.${workspaceId ?? "none"}`);
      const maxAge = Math.max(0, Math.floor((expiresAt - now) / 1000));
      return { cookie: cookie(value, maxAge), session: { kind: "admin", workspaceId, expiresAt, csrfToken: csrfOf(value) } };
    },
    /** A Set-Cookie value ending the session. */
    clear(): string {
      return cookie("", 0);
    },
  };
}

export type ConsoleSession = ReturnType<typeof createConsoleSession>;

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** An Origin header, when the browser sends one, must name this host. */
export function sameOrigin(request: FastifyRequest): boolean {
  const origin = request.headers.origin;
  if (origin === undefined) return request.headers["sec-fetch-site"] === undefined || request.headers["sec-fetch-site"] === "same-origin";
  try {
    return new URL(origin).host === request.headers.host;
  } catch {
    return false;
  }
}
