import type { FastifyInstance, FastifyRequest } from "fastify";
import { ScaleError } from "./errors";
import type { FaultInjector } from "./faults";
import type { Store, World } from "./state";
import type { RequestStats } from "./stats";

const UNAUTHORIZED = "No valid API key provided.";

/**
 * The API key of a request: HTTP Basic with the key as username (Scale's v1 scheme, `curl -u key:`), or a Bearer
 * token (what Scale's Fern-generated SDK sends). Null when neither is there.
 */
export function apiKeyOf(header: string | undefined): string | null {
  if (!header) return null;
  const [scheme, value] = header.trim().split(/\s+/, 2);
  if (!scheme || !value) return null;
  if (scheme.toLowerCase() === "bearer") return value;
  if (scheme.toLowerCase() !== "basic") return null;
  const decoded = Buffer.from(value, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  const user = colon >= 0 ? decoded.slice(0, colon) : decoded;
  return user === "" ? null : user;
}

const worlds = new WeakMap<FastifyRequest, World>();

/** The world of an authenticated /v1 request. */
export function worldOf(request: FastifyRequest): World {
  const world = worlds.get(request);
  if (!world) throw new ScaleError(401, UNAUTHORIZED);
  return world;
}

/**
 * For every route of the /v1 scope: 401 unless the key is one the sandbox accepts, then the request is counted and
 * the key's faults are applied. Runs at onRequest, before the body is read, so that a drop or a hang happens before
 * an upload is consumed.
 */
export function registerAuth(app: FastifyInstance, deps: { store: Store; stats: RequestStats; faults: FaultInjector }): void {
  app.addHook("onRequest", async (request, reply) => {
    const key = apiKeyOf(request.headers.authorization);
    const world = key === null ? undefined : deps.store.world(key);
    if (key === null || !world) throw new ScaleError(401, UNAUTHORIZED);
    worlds.set(request, world);
    deps.stats.record(key, `${request.method} ${request.routeOptions.url ?? request.url.split("?")[0]}`);
    if (await deps.faults.apply(key, request, reply)) return reply;
    return undefined;
  });
  // drop_after and malform act on the answer of a request that was served.
  app.addHook("onSend", async (request, reply, payload) => deps.faults.onSend(request, reply, payload));
}
