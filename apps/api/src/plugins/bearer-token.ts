import type { FastifyRequest } from "fastify";

// Its own module: auth.ts imports the console session, which (through the admin session) reads Bearer tokens too;
// both taking this from auth.ts made an import circle.

const BEARER = /^Bearer ([\x21-\x7e]{1,512})$/;

/** The Bearer token of a request's Authorization header, or null. */
export function bearerToken(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  if (typeof header !== "string") return null;
  return BEARER.exec(header)?.[1] ?? null;
}
