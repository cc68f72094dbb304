import { readFileSync, readdirSync } from "node:fs";
import { extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Type } from "typebox";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { AppError } from "@nagent/errors";
import type { AppDeps } from "../../app";
import type { ConsoleSession, ConsoleSessionState } from "../../plugins/console-session";
import { Timestamp, Uuid, errorResponses } from "../../schemas/common";

/** The console's static files: hand-written ES modules and CSS, no build step, read once at start. */
const ASSETS_DIR = fileURLToPath(new URL("../../../console/", import.meta.url));
const TYPES: Record<string, string> = { ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".html": "text/html; charset=utf-8", ".svg": "image/svg+xml" };
export const CONSOLE_CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const Session = Type.Object({
  session: Type.Object({
    workspace_id: Uuid,
    api_key_id: Uuid,
    expires_at: Timestamp,
    csrf_token: Type.String({ description: "Send it as X-CSRF-Token on every state-changing request made with the session cookie." }),
  }),
});

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
 * /console/session exchanges a workspace API key for the session cookie (see plugins/console-session.ts), GET tells
 * the page who it is signed in as (and its CSRF token), DELETE signs out. The page then calls the /v1 routes.
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
  const view = (state: ConsoleSessionState) => ({
    session: { workspace_id: state.principal.workspaceId, api_key_id: state.principal.apiKeyId, expires_at: new Date(state.expiresAt).toISOString(), csrf_token: state.csrfToken },
  });
  const current = async (request: FastifyRequest): Promise<ConsoleSessionState> => {
    const state = session.read(request);
    if (!state || !(await deps.services.apiKeys.active(state.principal))) throw new AppError("UNAUTHORIZED", "Not signed in to the console.");
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
      description: "Exchanges a workspace API key for an HttpOnly, SameSite=Strict session cookie (8 hours). The key is not kept: the " +
        "cookie names it by id, and revoking the key ends the session.",
      body: Type.Object({ api_key: Type.String({ minLength: 1, maxLength: 512, pattern: "^[\\x21-\\x7e]+$" }) }, { additionalProperties: false }),
      response: { 201: Session, ...errorResponses(403) },
    },
  }, async (request, reply) => {
    const principal = await deps.services.apiKeys.authenticate(request.body.api_key);
    if (!principal) throw new AppError("UNAUTHORIZED", "That is not a valid workspace API key.");
    const issued = session.issue(principal);
    const state = { principal, expiresAt: issued.expiresAt, csrfToken: session.csrfOf(issued.cookie) };
    return reply.status(201).header("set-cookie", issued.cookie).header("cache-control", "no-store").send(view(state));
  });

  app.get("/console/session", {
    ...page,
    schema: { tags: ["console"], summary: "The console session", description: "Who the session cookie signs in as, and its CSRF token; 401 without one.", response: { 200: Session, ...errorResponses() } },
  }, async (request, reply) => reply.header("cache-control", "no-store").send(view(await current(request))));

  app.delete("/console/session", {
    ...page,
    schema: { tags: ["console"], summary: "Sign out of the console", description: "Clears the session cookie; needs the session's X-CSRF-Token.", response: { 204: Type.Null(), ...errorResponses(403) } },
  }, async (request, reply) => {
    const state = session.read(request);
    if (state && !session.mayMutate(request, state)) throw new AppError("CSRF_REJECTED", "Signing out needs the session's X-CSRF-Token header, from this origin.");
    return reply.status(204).header("set-cookie", session.clear()).send(null);
  });
};
