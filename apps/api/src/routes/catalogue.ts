import { Type, type Static, type TInteger, type TObject, type TOptional, type TSchema, type TString } from "typebox";
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { AppError, notFound } from "@nagent/errors";
import { InvalidCursorError, type SchemaVersionSummary } from "@nagent/registry";
import { errorResponses, routeDocs } from "../schemas/common";
import { ListCatalogueQuery } from "../schemas/catalogue";

// The routes the action and trigger catalogues (routes/actions, routes/triggers) share: a listing paged through the
// registry by cursor, one entry with its current or a stored schema version, and the entry's version history.

/** Versions listed per action or trigger: the newest ones; older ones stay reachable one by one with `?version=N`. */
export const MAX_VERSIONS_LISTED = 100;

/** The OpenAPI header of a catalogue route. */
export const catalogueDoc = routeDocs("catalogue");

type App = Parameters<FastifyPluginAsyncTypebox>[0];

/** What one route states in the API document. */
interface RouteText {
  readonly summary: string;
  readonly description: string;
}

/**
 * One catalogue: E is its registry entry, P a page of the registry's listing, V a stored schema version. Each
 * route's part holds what only that route needs.
 */
export interface Catalogue<E extends CatalogueEntry, P extends { readonly next_cursor: string | null }, V> {
  /** The answers name the entries `<kind>` (one) and `<kind>s` (a list); the paths start /v1/<kind>s. */
  readonly kind: "action" | "trigger";
  readonly params: TObject<{ slug: TString }>;
  /** The entry, or the 404 this catalogue answers. */
  readonly find: (slug: string) => E;
  /** GET /v1/<kind>s */
  readonly list: RouteText & {
    /** The schema of one listed entry. */
    readonly entry: TSchema;
    /** Whether `integration` names one this catalogue lists entries of (else 404). */
    readonly knows: (integration: string) => boolean;
    readonly page: (query: Static<typeof ListCatalogueQuery>) => P;
    /** The page's entries as the answer shows them. */
    readonly entries: (page: P) => unknown[];
  };
  /** GET /v1/<kind>s/:slug */
  readonly get: RouteText & {
    readonly query: TObject<{ version: TOptional<TInteger> }>;
    /** The schema of the answered entry. */
    readonly detail: TSchema;
    readonly stored: (entry: E, version: number) => Promise<V | undefined>;
    /** The error a version the entry never had answers. */
    readonly noSuchVersion: (entry: E, version: number) => AppError;
    /** The entry as the answer shows it: as it is now, or with the schemas of a stored version. */
    readonly view: (entry: E, version?: V) => unknown;
  };
  /** GET /v1/<kind>s/:slug/versions */
  readonly versions: RouteText & {
    /** The schema of one version as this catalogue describes it. */
    readonly version: TSchema;
    readonly list: (slug: string, options: { limit: number }) => Promise<SchemaVersionSummary[]>;
  };
}

interface CatalogueEntry {
  readonly slug: string;
  readonly schema_version: number | null;
}

/** Registers the catalogue's list, get and versions routes, in that order. */
export function registerCatalogueRoutes<E extends CatalogueEntry, P extends { readonly next_cursor: string | null }, V>(app: App, catalogue: Catalogue<E, P, V>): void {
  const { kind, params, find, list, get, versions } = catalogue;
  const plural = `${kind}s`;

  app.get(`/v1/${plural}`, {
    schema: {
      ...catalogueDoc(list.summary, list.description),
      querystring: ListCatalogueQuery,
      response: { 200: Type.Object({ [plural]: Type.Array(list.entry), next_cursor: Type.Union([Type.String(), Type.Null()]) }), ...errorResponses(404) },
    },
  }, async (request) => {
    const { integration } = request.query;
    if (integration !== undefined && !list.knows(integration)) throw notFound(`Integration ${integration}`);
    const page = registryPage(() => list.page(request.query));
    return { [plural]: list.entries(page), next_cursor: page.next_cursor };
  });

  app.get(`/v1/${plural}/:slug`, {
    schema: {
      ...catalogueDoc(get.summary, get.description),
      params,
      querystring: get.query,
      response: { 200: Type.Object({ [kind]: get.detail }), ...errorResponses(404) },
    },
  }, async (request) => {
    const entry = find(request.params.slug);
    const wanted = request.query.version;
    if (wanted === undefined) return { [kind]: get.view(entry) };
    const stored = await get.stored(entry, wanted);
    if (stored === undefined) throw get.noSuchVersion(entry, wanted);
    return { [kind]: get.view(entry, stored) };
  });

  app.get(`/v1/${plural}/:slug/versions`, {
    schema: {
      ...catalogueDoc(versions.summary, versions.description),
      params,
      response: {
        200: Type.Object({ [kind]: Type.String(), current_version: Type.Union([Type.Integer(), Type.Null()]), versions: Type.Array(versions.version) }),
        ...errorResponses(404),
      },
    },
  }, async (request) => {
    const entry = find(request.params.slug);
    const stored = await versions.list(entry.slug, { limit: MAX_VERSIONS_LISTED });
    return { [kind]: entry.slug, current_version: entry.schema_version, versions: stored.map(versionView) };
  });
}

/** A page of a registry listing; a cursor the registry did not issue answers 400 INVALID_CURSOR. */
function registryPage<T>(list: () => T): T {
  try {
    return list();
  } catch (error) {
    if (error instanceof InvalidCursorError) throw new AppError("INVALID_CURSOR", "The cursor is not one this API issued; start again without it.");
    throw error;
  }
}

/** A stored schema version without its schemas. Responses pick their fields: the registry's may grow. */
function versionView(v: SchemaVersionSummary) {
  return {
    version: v.version,
    content_hash: v.content_hash,
    compatibility: v.compatibility,
    changes: v.changes.map(({ path, kind, message, direction, compatibility }) => ({ path, kind, message, direction, compatibility })),
    created_at: v.created_at,
  };
}
