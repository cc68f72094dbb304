import { Type, type TSchema } from "typebox";
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { workspaceOf } from "../plugins/auth";
import { errorResponses, IdParams, type RouteDoc } from "../schemas/common";

// The routes that read or delete one of the workspace's resources by id, alike for connections, subscriptions and
// tool sets: the service throws the 404 for an id the workspace does not hold. `doc` is the route's OpenAPI header.

type App = Parameters<FastifyPluginAsyncTypebox>[0];

/** GET `<collection>/:id`, answered as `{ <name>: … }`; `answer` is that one property's `{ name: schema }`. */
export function registerGetByIdRoute(app: App, collection: string, doc: RouteDoc, answer: Record<string, TSchema>, get: (workspaceId: string, id: string) => Promise<unknown>): void {
  const [name] = Object.keys(answer);
  app.get(`${collection}/:id`, {
    schema: { ...doc, params: IdParams, response: { 200: Type.Object(answer), ...errorResponses(404) } },
  }, async (request) => ({ [name as string]: await get(workspaceOf(request), request.params.id) }));
}

/** DELETE `<collection>/:id`: 204 once the resource is gone. */
export function registerDeleteRoute(app: App, collection: string, doc: RouteDoc, remove: (workspaceId: string, id: string) => Promise<unknown>): void {
  app.delete(`${collection}/:id`, {
    schema: { ...doc, params: IdParams, response: { 204: Type.Null(), ...errorResponses(404) } },
  }, async (request, reply) => {
    await remove(workspaceOf(request), request.params.id);
    return reply.status(204).send(null);
  });
}
