import { readFileSync, readdirSync } from "node:fs";
import { extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Type } from "typebox";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { AppError } from "@nagent/errors";
import type { AppDeps } from "../../deps";
import type { AdminConsoleSession, ConsoleSession, ConsoleSessionState } from "../../plugins/console-session";
import { Timestamp, Uuid, errorResponses } from "../../schemas/common";
import { sameSecret } from "../../services/api-key-secret";
import { WorkspaceListQuery, WorkspacePageSchema } from "../workspaces/index";

/** The console's static files: hand-written ES modules and CSS, no build step, read once at start. */
const ASSETS_DIR = fileURLToPath(new URL("../../../console/", import.meta.url));
const TYPES: Record<string, string> = { ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".html": "text/html; charset=utf-8", ".svg": "image/svg+xml" };
export const CONSOLE_CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const Session = Type.Object({
  session: Type.Object({
    kind: Type.Union([Type.Literal("key"), Type.Literal("admin")], { description: "Signed in with a workspace API key, or with the admin token (which picks a workspace)." }),
    workspace_id: Type.Union([Uuid, Type.Null()], { description: "The workspace the session acts in; null for an admin session that has not picked one (or whose workspace was deleted)." }),
    workspace_name: Type.Union([Type.String(), Type.Null()]),
    api_key_id: Type.Union([Uuid, Type.Null()], { description: "The key a key session acts as; null for an admin session." }),
    expires_at: Timestamp,
    csrf_token: Type.String({ description: "Send it as X-CSRF-Token on every state-changing request made with the session cookie." }),
  }),
});

const Printable = (description: string) => Type.String({ minLength: 1, maxLength: 512, pattern: "^[\\x21-\\x7e]+$", description });

function loadAssets(): Map<string, { body: Buffer; type: string }> {
  const assets = new Map<string, { body: Buffer; type: string }>();
  for (const name of readdirSync(ASSETS_DIR)) {
    const type = TYPES[extname(name)];
    if (type) assets.set(name, { body: readFileSync(join(ASSETS_DIR, name)), type });
  }
  return assets;
}

/**
 * The operator console at GET /console (a single page; its views are URL fragments) and its sign-in: POST
 * /console/session exchanges a workspace API key or the admin token for the session cookie (see
 * plugins/console-session.ts), GET tells the page who it is signed in as (and its CSRF token), DELETE signs out. An
 * admin session lists workspaces (GET /console/workspaces) and picks the one it acts in (POST
 * /console/session/workspace). The page then calls the /v1 routes.
 */
export const consoleRoutes: FastifyPluginAsyncTypebox<{ deps: AppDeps; session: ConsoleSession }> = async (app, { deps, session }) => {
  const assets = loadAssets();
  const page = { config: { auth: "public" as const } };
  const send = (reply: FastifyReply, name: string) => {
    const asset = assets.get(name);
    if (!asset) throw new AppError("ROUTE_NOT_FOUND", "No such console asset.");
    return reply.header("content-security-policy", CONSOLE_CSP).header("x-content-type-options", "nosniff")
      .header("cache-control", name === "index.html" ? "no-store" : "no-cache").type(asset.type).send(asset.body);
  };
  /** The session as the page sees it; an admin session whose workspace was deleted shows none (the page offers the picker). */
  const view = async (state: ConsoleSessionState) => {
    const workspaceId = state.kind === "key" ? state.principal.workspaceId : state.workspaceId;
    const workspace = workspaceId === null ? null : await deps.services.workspaces.find(workspaceId);
    return {
      session: {
        kind: state.kind, workspace_id: workspace?.id ?? null, workspace_name: workspace?.name ?? null,
        api_key_id: state.kind === "key" ? state.principal.apiKeyId : null,
        expires_at: new Date(state.expiresAt).toISOString(), csrf_token: state.csrfToken,
      },
    };
  };
  /** The request's session while what stands behind it holds: a key session's key is active (and its workspace exists). */
  const current = async (request: FastifyRequest): Promise<ConsoleSessionState> => {
    const state = session.read(request);
    if (!state || (state.kind === "key" && !(await deps.services.apiKeys.active(state.principal)))) throw new AppError("UNAUTHORIZED", "Not signed in to the console.");
    return state;
  };
  /** An admin session, or a refusal: a key session never sees other workspaces (404, as for another workspace's resource). */
  const adminOnly = (state: ConsoleSessionState): AdminConsoleSession => {
    if (state.kind !== "admin") throw new AppError("NOT_FOUND", "Only a console session signed in with the admin token picks a workspace; this one is bound to its API key's workspace.");
    return state;
  };

  app.get("/console", { ...page, schema: { hide: true } }, async (_request, reply) => send(reply, "index.html"));
  app.get("/console/assets/:name", {
    ...page, schema: { hide: true, params: Type.Object({ name: Type.String({ maxLength: 64, pattern: "^[a-z0-9-]+\\.(js|css|svg)$" }) }, { additionalProperties: false }) },
  }, async (request, reply) => send(reply, request.params.name));

  app.post("/console/session", {
    ...page,
    schema: {
      tags: ["console"], summary: "Sign in to the console",
      description: "Exchanges a workspace API key (`api_key`) or the admin token (`admin_token`), exactly one of them, for an HttpOnly, " +
        "SameSite=Strict session cookie. A key session lasts 8 hours and acts in the key's workspace; the key is not kept: the cookie " +
        "names it by id, and revoking the key ends the session. An admin session lasts 1 hour, starts with no workspace and picks one " +
        "with POST /console/session/workspace; rotating the admin token ends it.",
      body: Type.Object({
        api_key: Type.Optional(Printable("A workspace API key (nk_…).")),
        admin_token: Type.Optional(Printable("The admin token (NAGENT_ADMIN_TOKEN).")),
      }, { additionalProperties: false }),
      response: { 201: Session, ...errorResponses(403) },
    },
  }, async (request, reply) => {
    const { api_key: apiKey, admin_token: adminToken } = request.body;
    if ((apiKey === undefined) === (adminToken === undefined)) throw new AppError("VALIDATION_FAILED", "Send exactly one of `api_key` and `admin_token`.");
    let issued: { cookie: string; session: ConsoleSessionState };
    if (adminToken !== undefined) {
      if (!sameSecret(adminToken, deps.config.adminToken)) throw new AppError("UNAUTHORIZED", "That is not a valid workspace API key or admin token.");
      issued = session.issueAdmin(null);
      request.log.info("console admin session started");
    } else {
      const principal = await deps.services.apiKeys.authenticate(apiKey!);
      if (!principal) throw new AppError("UNAUTHORIZED", "That is not a valid workspace API key.");
      issued = session.issue(principal);
    }
    return reply.status(201).header("set-cookie", issued.cookie).header("cache-control", "no-store").send(await view(issued.session));
  });

  app.get("/console/session", {
    ...page,
    schema: { tags: ["console"], summary: "The console session", description: "Who the session cookie signs in as, and its CSRF token; 401 without one.", response: { 200: Session, ...errorResponses() } },
  }, async (request, reply) => reply.header("cache-control", "no-store").send(await view(await current(request))));

  app.get("/console/workspaces", {
    ...page,
    schema: {
      tags: ["console"], summary: "Workspaces an admin console session may pick",
      description: "The listing of GET /v1/workspaces, for a console session signed in with the admin token (401 without a session, " +
        "404 NOT_FOUND for a session signed in with a workspace key).",
      querystring: WorkspaceListQuery,
      response: { 200: WorkspacePageSchema, ...errorResponses(404) },
    },
  }, async (request, reply) => {
    adminOnly(await current(request));
    const { q, limit, cursor } = request.query;
    return reply.header("cache-control", "no-store").send(await deps.services.workspaces.list({ q, limit: limit ?? 50, cursor }));
  });

  app.post("/console/session/workspace", {
    ...page,
    schema: {
      tags: ["console"], summary: "Pick the workspace an admin console session acts in",
      description: "Re-issues the admin session's cookie acting in the workspace (same expiry; a new CSRF token, in the answer). Needs the " +
        "session's X-CSRF-Token. A session signed in with a workspace key cannot switch: 404 NOT_FOUND. A deleted or unknown workspace: 404.",
      body: Type.Object({ workspace_id: Uuid }, { additionalProperties: false }),
      response: { 200: Session, ...errorResponses(403, 404) },
    },
  }, async (request, reply) => {
    const state = await current(request);
    if (!session.mayMutate(request, state)) throw new AppError("CSRF_REJECTED", "Switching workspace needs the session's X-CSRF-Token header, from this origin.");
    const admin = adminOnly(state);
    const workspace = await deps.services.workspaces.find(request.body.workspace_id.toLowerCase());
    if (!workspace) throw new AppError("NOT_FOUND", "No such workspace (or it was deleted).");
    const issued = session.issueAdmin(workspace.id, admin.expiresAt);
    request.log.info({ workspaceId: workspace.id }, "console admin session switched workspace");
    return reply.header("set-cookie", issued.cookie).header("cache-control", "no-store").send(await view(issued.session));
  });

  app.delete("/console/session", {
    ...page,
    schema: { tags: ["console"], summary: "Sign out of the console", description: "Clears the session cookie; needs the session's X-CSRF-Token.", response: { 204: Type.Null(), ...errorResponses(403) } },
  }, async (request, reply) => {
    const state = session.read(request);
    if (state && !session.mayMutate(request, state)) throw new AppError("CSRF_REJECTED", "Signing out needs the session's X-CSRF-Token header, from this origin.");
    return reply.status(204).header("set-cookie", session.clear()).send(null);
  });
};
