import type { CompiledAction } from "./compile-actions";
import { InvalidCursorError } from "./errors";
import { isPlainObject } from "./json-pointer";
import type { IntegrationManifest } from "./types";
import type { ActionSearch } from "./search";

/** How an integration authenticates, without anything secret: the scheme and the fields a connection must give. */
export interface AuthSummary {
  readonly type: "api_key";
  readonly scheme: "basic" | "bearer" | "header";
  readonly fields: readonly { readonly name: string; readonly description: string | null; readonly secret: boolean; readonly required: boolean }[];
}

export interface IntegrationSummary {
  readonly slug: string;
  readonly name: string;
  readonly description: string;
  readonly version: string;
  readonly categories: readonly string[];
  readonly auth: AuthSummary;
  readonly actions_count: number;
}

export interface ActionSummary {
  readonly slug: string;
  readonly integration: string;
  readonly name: string;
  readonly description: string;
  readonly group: string | null;
}

/** What every catalogue list (actions, triggers) is asked with. */
export interface CatalogueQuery {
  /** Only the entries of this integration. */
  readonly integration?: string | undefined;
  /** Words that must all occur (case-insensitive) in the slug, name or description. */
  readonly q?: string | undefined;
  /** Page size, 1–100 (default 20); out-of-range values are clamped. */
  readonly limit?: number | undefined;
  /** The `next_cursor` of the previous page. */
  readonly cursor?: string | undefined;
}

export type ListActionsQuery = CatalogueQuery;

/** What every catalogue page carries besides its entries. */
export interface CataloguePage {
  /** Opaque; `null` on the last page. */
  readonly next_cursor: string | null;
}

export interface ActionPage extends CataloguePage {
  readonly actions: readonly ActionSummary[];
}

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;
/** Longest query text considered; the rest is ignored (the REST layer bounds it earlier anyway). */
const MAX_QUERY_LENGTH = 200;

export function summarizeIntegration(manifest: IntegrationManifest): IntegrationSummary {
  const { credentials, apply } = manifest.auth;
  const properties = isPlainObject(credentials["properties"]) ? credentials["properties"] : {};
  const required = Array.isArray(credentials["required"]) ? credentials["required"] : [];
  return {
    slug: manifest.slug,
    name: manifest.name,
    description: manifest.description,
    version: manifest.version,
    categories: manifest.categories ?? [],
    auth: {
      type: manifest.auth.type,
      scheme: apply.type,
      fields: Object.entries(properties).map(([name, schema]) => {
        const s = isPlainObject(schema) ? schema : {};
        return { name, description: typeof s["description"] === "string" ? s["description"] : null, secret: s["x-secret"] === true, required: required.includes(name) };
      }),
    },
    actions_count: manifest.actions.length,
  };
}

export function summarizeAction(action: CompiledAction): ActionSummary {
  const m = action.manifest;
  return { slug: m.slug, integration: action.integration.slug, name: m.name, description: m.description, group: m.group ?? null };
}

/**
 * One page of actions: ordered by slug, or with `q` by relevance (the ranking of `search.ts`; ties by slug), keeping
 * only the actions that contain every word of `q`. An exact slug as `q` answers that action alone. The cursor is the
 * last slug of the page, base64url-encoded JSON: without `q` the next page starts after that slug, with `q` after its
 * place in the ranking (which only changes when the catalogue does).
 */
export function pageActions(all: readonly CompiledAction[], query: ListActionsQuery, search?: ActionSearch): ActionPage {
  const limit = clampLimit(query.limit);
  const after = query.cursor === undefined || query.cursor === "" ? undefined : decodeCursor(query.cursor);
  const q = (query.q ?? "").slice(0, MAX_QUERY_LENGTH);
  const terms = q.toLowerCase().split(/\s+/).filter(Boolean);
  const scoped = all.filter((a) => query.integration === undefined || a.integration.slug === query.integration);
  let matches: CompiledAction[];
  if (terms.length === 0 || search === undefined) {
    matches = scoped
      .filter((a) => after === undefined || a.manifest.slug > after)
      .filter((a) => terms.length === 0 || matchesAll(a, terms))
      .sort((a, b) => (a.manifest.slug < b.manifest.slug ? -1 : 1));
  } else {
    const exact = scoped.filter((a) => a.manifest.slug === q.trim().toUpperCase());
    const bySlug = new Map(scoped.map((a) => [a.manifest.slug, a]));
    const ranked = exact.length > 0 ? exact : search.search(q, { every: true }).flatMap((slug) => bySlug.get(slug) ?? []).filter((a) => matchesAll(a, terms));
    const at = after === undefined ? -1 : ranked.findIndex((a) => a.manifest.slug === after);
    const start = after === undefined ? 0 : at < 0 ? ranked.length : at + 1;
    matches = ranked.slice(start);
  }
  const { page, next_cursor } = firstOf(matches, limit);
  return { actions: page.map(summarizeAction), next_cursor };
}

function matchesAll(action: CompiledAction, terms: readonly string[]): boolean {
  return containsTerms(action.manifest, terms);
}

/** Whether an entry's slug, name or description contain every term (lower-case). */
export function containsTerms(entry: { readonly slug: string; readonly name: string; readonly description: string }, terms: readonly string[]): boolean {
  // Slugs read as words too: "create batch" finds SCALE_AI_CREATE_BATCH.
  const haystack = `${entry.slug} ${entry.slug.replace(/_/g, " ")} ${entry.name} ${entry.description}`.toLowerCase();
  return terms.every((t) => haystack.includes(t));
}

/** The first `limit` matches, and the cursor that continues after them (`null` when none are left). */
export function firstOf<T extends { readonly manifest: { readonly slug: string } }>(matches: readonly T[], limit: number): { page: readonly T[]; next_cursor: string | null } {
  const page = matches.slice(0, limit);
  const last = page.at(-1);
  return { page, next_cursor: matches.length > limit && last !== undefined ? encodeCursor(last.manifest.slug) : null };
}

export function clampLimit(limit: number | undefined): number {
  if (limit === undefined || !Number.isFinite(limit)) return DEFAULT_PAGE_SIZE;
  return Math.min(MAX_PAGE_SIZE, Math.max(1, Math.trunc(limit)));
}

export function encodeCursor(afterSlug: string): string {
  return Buffer.from(JSON.stringify({ a: afterSlug }), "utf8").toString("base64url");
}

/** The slug a cursor continues after; throws `InvalidCursorError` for anything this module did not issue. */
export function decodeCursor(cursor: string): string {
  if (cursor.length > 400 || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw new InvalidCursorError();
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (isPlainObject(parsed) && typeof parsed["a"] === "string" && Object.keys(parsed).length === 1) return parsed["a"];
  } catch {
    // fall through
  }
  throw new InvalidCursorError();
}
