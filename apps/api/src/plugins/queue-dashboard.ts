import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { Type } from "typebox";
import { createBullBoard } from "@bull-board/api";
import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import { FastifyAdapter } from "@bull-board/fastify";
import { MAINTENANCE_QUEUE, RUNS_QUEUE } from "@nagent/queue";
import { createAdminSession, type AdminSession } from "./admin-session";

export const DASHBOARD_PATH = "/admin/queues";
export const LOGIN_PATH = "/admin/login";
const LOGOUT_PATH = "/admin/logout";
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

export interface QueueDashboardOptions {
  readonly redis: Redis;
  readonly queuePrefix: string;
  readonly adminToken: string;
  /** Mark the session cookie `Secure` (production, served over TLS). */
  readonly secureCookie: boolean;
}

/**
 * The operators' queue dashboard (bull-board) at /admin/queues, showing the runs and maintenance queues. Every page,
 * asset and API route of it needs the admin token: as a Bearer token, or through the session cookie that the login
 * form at /admin/login sets (POSTed, so the token never appears in a URL or an access log).
 */
export async function registerQueueDashboard(app: FastifyInstance, options: QueueDashboardOptions): Promise<void> {
  const session = createAdminSession({ adminToken: options.adminToken, secure: options.secureCookie });
  const queues = [
    new Queue(RUNS_QUEUE, { connection: options.redis, prefix: options.queuePrefix }),
    new Queue(MAINTENANCE_QUEUE, { connection: options.redis, prefix: options.queuePrefix }),
  ];
  for (const queue of queues) queue.on("error", (error) => app.log.debug({ err: { message: error.message } }, "queue dashboard connection error"));
  app.addHook("onClose", async () => {
    await Promise.allSettled(queues.map((q) => q.close()));
  });

  await app.register(async (scope) => {
    scope.addHook("onRequest", async (request, reply) => {
      const how = session.authenticate(request);
      // A cookie rides along with any request the browser makes; SameSite=Strict already keeps other sites' pages
      // from sending it, and an Origin that is not ours is refused too (defence in depth for the state-changing API).
      if (how === "cookie" && !SAFE_METHODS.has(request.method) && !sameOrigin(request)) return refuse(request, reply, "Cross-origin request refused.");
      if (how !== null) return;
      if (request.method === "GET" && (request.headers.accept ?? "").includes("text/html")) return reply.redirect(LOGIN_PATH, 303);
      return refuse(request, reply, "The queue dashboard needs the admin token: log in at /admin/login, or send it as a Bearer token.");
    });
    const serverAdapter = new FastifyAdapter();
    serverAdapter.setBasePath(DASHBOARD_PATH);
    createBullBoard({
      queues: [
        new BullMQAdapter(queues[0]!, { description: "Runs of actions (job id = run id; payloads carry ids only)." }),
        new BullMQAdapter(queues[1]!, { description: "Periodic upkeep: the stuck-run sweeper and run retention." }),
      ],
      serverAdapter,
      options: { uiConfig: { boardTitle: "Nagent queues" } },
    });
    await scope.register(serverAdapter.registerPlugin(), { prefix: DASHBOARD_PATH });
  });

  await app.register(async (scope) => registerLogin(scope, session));
}

/** The login form: GET shows it, POST checks the token and sets the session cookie; POST /admin/logout ends it. */
async function registerLogin(scope: FastifyInstance, session: AdminSession): Promise<void> {
  // Only these routes take a form body; the rest of the API stays JSON-only.
  scope.addContentTypeParser("application/x-www-form-urlencoded", { parseAs: "string", bodyLimit: 4096 }, (_request, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });
  const page = { config: { auth: "public" as const }, schema: { hide: true } };

  scope.get(LOGIN_PATH, page, async (_request, reply) => sendLoginPage(reply, 200, null));

  scope.post(LOGIN_PATH, {
    ...page,
    schema: { hide: true, body: Type.Object({ token: Type.String({ maxLength: 512 }) }) },
  }, async (request, reply) => {
    const { token } = request.body as { token: string };
    if (!session.checkToken(token)) {
      request.log.warn("admin login refused");
      return sendLoginPage(reply, 401, "That is not the admin token.");
    }
    return reply.header("set-cookie", session.issue()).redirect(`${DASHBOARD_PATH}/`, 303);
  });

  scope.post(LOGOUT_PATH, page, async (_request, reply) => reply.header("set-cookie", session.clear()).redirect(LOGIN_PATH, 303));
}

function sameOrigin(request: FastifyRequest): boolean {
  const origin = request.headers.origin;
  if (origin === undefined) return true; // same-origin GETs and older browsers send none; SameSite still applies
  try {
    return new URL(origin).host === request.headers.host;
  } catch {
    return false;
  }
}

function refuse(request: FastifyRequest, reply: FastifyReply, message: string): FastifyReply {
  return reply.status(401).send({ error: { code: "UNAUTHORIZED", message, details: null }, request_id: request.id });
}

function sendLoginPage(reply: FastifyReply, status: number, problem: string | null): FastifyReply {
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="robots" content="noindex"><title>Nagent admin login</title>
<style>body{font-family:system-ui,sans-serif;max-width:28rem;margin:4rem auto;padding:0 1rem}input{width:100%;padding:.5rem;margin:.5rem 0;box-sizing:border-box}p.e{color:#b00}</style></head>
<body><h1>Queue dashboard</h1>${problem ? `<p class="e">${problem}</p>` : ""}
<form method="post" action="${LOGIN_PATH}"><label for="token">Admin token (NAGENT_ADMIN_TOKEN)</label>
<input id="token" name="token" type="password" autocomplete="current-password" required maxlength="512" autofocus>
<button type="submit">Log in</button></form></body></html>`;
  return reply
    .status(status)
    .header("content-security-policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
    .header("cache-control", "no-store")
    .type("text/html; charset=utf-8")
    .send(html);
}
