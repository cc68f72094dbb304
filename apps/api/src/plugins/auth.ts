import type { FastifyInstance, FastifyRequest } from "fastify";
import { AppError } from "@nagent/errors";
import type { ApiKeyService, Principal } from "../services/api-keys";
import { sameSecret } from "../services/api-key-secret";
import { SAFE_METHODS, type ConsoleSession } from "./console-session";
import { bearerToken } from "./bearer-token";

// Re-exported for the modules that still take it from here (the admin session, the MCP route).

/** Who may call a route: the admin token, a workspace API key, or anyone (health, docs, metrics). */
export type AuthMode = "admin" | "workspace" | "public";

declare module "fastify" {
  interface FastifyContextConfig {
    /** Defaults to "workspace" for /v1 routes and "public" elsewhere. */
    auth?: AuthMode;
  }
  interface FastifyRequest {
    /** The authenticated workspace key (workspace routes only); apiKeyId is null for an admin console session. */
    principal: RequestPrincipal | null;
  }
}

/** Who a workspace route acts for: a workspace key, or an admin console session acting in a workspace (no key). */
export interface RequestPrincipal {
  readonly workspaceId: string;
  readonly apiKeyId: string | null;
}

/** What the auth hook needs of the workspace service: does a workspace (still) exist. */
interface WorkspaceLookup {
  find(id: string): Promise<{ id: string } | null>;
}

/**
 * Authentication as an onRequest hook, so a request without valid credentials is refused before its body is read.
 * A workspace route takes a Bearer API key, or the operator console's session cookie (with its CSRF token on every
 * state-changing method); a Bearer header, when present, decides alone.
 */
export function registerAuth(app: FastifyInstance, deps: { adminToken: string; apiKeys: ApiKeyService; workspaces: WorkspaceLookup; consoleSession: ConsoleSession }): void {
  app.decorateRequest("principal", null);
  app.addHook("onRequest", async (request) => {
    const mode = authModeOf(request);
    if (mode === "public") return;
    const token = bearerToken(request);
    if (mode === "admin") {
      if (token === null || !sameSecret(token, deps.adminToken)) throw new AppError("UNAUTHORIZED", "This route needs the admin token as a Bearer token.");
      return;
    }
    if (token === null) {
      request.principal = await consolePrincipal(request, deps);
      return;
    }
    const principal = await deps.apiKeys.authenticate(token);
    if (!principal) throw new AppError("UNAUTHORIZED", "The API key is not valid (unknown, malformed or revoked).");
    request.principal = principal;
  });
}

async function consolePrincipal(request: FastifyRequest, deps: { apiKeys: ApiKeyService; workspaces: WorkspaceLookup; consoleSession: ConsoleSession }): Promise<RequestPrincipal> {
  const session = deps.consoleSession.read(request);
  if (!session) throw new AppError("UNAUTHORIZED", "Send a workspace API key as `Authorization: Bearer nk_…`.");
  if (!SAFE_METHODS.has(request.method) && !deps.consoleSession.mayMutate(request, session)) {
    throw new AppError("CSRF_REJECTED", "This request changes state: send the console session's X-CSRF-Token header, from this origin.");
  }
  if (session.kind === "admin") {
    // An admin session acts in the workspace it picked, while that workspace exists.
    if (session.workspaceId === null) throw new AppError("UNAUTHORIZED", "The admin console session has not picked a workspace yet; pick one at /console.");
    if (!(await deps.workspaces.find(session.workspaceId))) throw new AppError("UNAUTHORIZED", "The workspace this admin console session acts in was deleted; pick another.");
    return { workspaceId: session.workspaceId, apiKeyId: null };
  }
  const principal = await deps.apiKeys.active(session.principal);
  if (!principal) throw new AppError("UNAUTHORIZED", "The console session's API key was revoked or its workspace deleted; sign in again.");
  return principal;
}

function authModeOf(request: FastifyRequest): AuthMode {
  const configured = request.routeOptions.config.auth;
  if (configured) return configured;
  return request.routeOptions.url?.startsWith("/v1/") ? "workspace" : "public";
}


/** The workspace of an authenticated request (routes with auth "workspace" only). */
export function workspaceOf(request: FastifyRequest): string {
  if (!request.principal) throw new AppError("UNAUTHORIZED", "No workspace credentials.");
  return request.principal.workspaceId;
}
