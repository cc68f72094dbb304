import type { Client } from "openapi-fetch";
import type { paths } from "./generated/openapi.js";
import { NagentError } from "./errors.js";
import type { CallOptions } from "./transport.js";

/** What every resource of the client shares: the typed REST client and the transport. */
export interface Context {
  readonly raw: Client<paths>;
  readonly baseUrl: string;
  send(request: Request, call?: CallOptions): Promise<Response>;
  /** openapi-fetch options that send one call through the transport with its options. */
  via(call: CallOptions | undefined): { fetch: (request: Request) => Promise<Response> };
}

/** The answer's data; the transport has already turned every non-2xx answer into an error. */
export function ok<T>(result: { data?: T; response: Response }): T {
  if (result.data === undefined) throw new NagentError(`The API answered ${result.response.status} with no body.`);
  return result.data;
}

/** `query` with the page's cursor (none on the first page). */
export function withCursor<Q extends object>(query: Q, cursor: string | undefined): Q & { cursor?: string } {
  return { ...query, ...(cursor !== undefined ? { cursor } : {}) };
}

export const seg = encodeURIComponent;
