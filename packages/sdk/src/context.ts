import type { Client } from "openapi-fetch";
import type { paths } from "./generated/openapi.js";
import { NagentError } from "./errors.js";
import { Paginator } from "./pagination.js";
import type { CallOptions } from "./transport.js";

/** What every resource of the client shares: the typed REST client and the transport. */
export interface Context {
  readonly raw: Client<paths>;
  readonly baseUrl: string;
  send(request: Request, call?: CallOptions): Promise<Response>;
  /** openapi-fetch options that send one call through the transport with its options. */
  via(call: CallOptions | undefined): { fetch: (request: Request) => Promise<Response> };
}

/** A resource of the client (`client.runs`, `client.triggers`, …): its calls go through the shared context. */
export abstract class Resource {
  constructor(protected readonly ctx: Context) {}
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

/**
 * A lazy paginator over a cursor-paged list: `get` fetches the page for a query (with the cursor from the second page
 * on), `items` picks the page's entries.
 */
export function paged<Q extends object, P extends { readonly next_cursor: string | null }, T>(
  query: Q,
  get: (query: Q & { cursor?: string }) => Promise<P>,
  items: (page: P) => readonly T[],
): Paginator<T> {
  return new Paginator(async (cursor) => {
    const page = await get(withCursor(query, cursor));
    return { items: items(page), nextCursor: page.next_cursor };
  });
}

export const seg = encodeURIComponent;
