import MiniSearch from "minisearch";
import type { CompiledAction } from "./compile-actions";
import { isPlainObject } from "./json-pointer";

/**
 * Ranked action search (BM25+ via minisearch) over the slug (read as words), the name, the description and the
 * descriptions of the input parameters. One index serves both GET /v1/actions?q= (every word must match, as that
 * route's contract says) and the MCP `search_tools` meta-tool (any word may match; the best first), so an agent and
 * a developer see the same order.
 *
 * Terms are stemmed crudely by truncation to 6 characters ("transcribe" and "transcription" meet at "transc",
 * "tags" and "tag" at "tag"): the catalogue is small and English, and a real stemmer is not worth a dependency.
 * Common English words ("a", "my", "who", "to") are dropped, so a question reads as its content words.
 */

const STOP_WORDS = new Set([
  "a", "an", "and", "are", "as", "at", "be", "by", "can", "do", "for", "from", "how", "i", "in", "into", "is", "it", "its",
  "me", "my", "of", "on", "or", "our", "so", "that", "the", "this", "to", "tool", "use", "want", "we", "what", "when", "where",
  "which", "whom", "why", "with", "you", "your", "need", "needs", "some", "all", "scale", "ai",
]);

/**
 * Question words an agent uses for a read, expanded into the words the catalogue uses for one (query side only):
 * "who is on my team" means "retrieve the team's members".
 */
const QUERY_SYNONYMS: Readonly<Record<string, readonly string[]>> = {
  who: ["retrieve", "member"],
  show: ["retrieve", "list"],
  find: ["retrieve", "list"],
};

/** A query word: expanded by QUERY_SYNONYMS, then as `searchTerm`. */
export function queryTerms(term: string): string[] | null {
  const words = QUERY_SYNONYMS[term.toLowerCase()] ?? [term];
  const terms = words.map(searchTerm).filter((t): t is string => t !== null);
  return terms.length > 0 ? terms : null;
}

/** Lower-cased, stop words dropped, stemmed by truncation (see above); null drops the term. */
export function searchTerm(term: string): string | null {
  const t = term.toLowerCase();
  if (t.length === 0 || STOP_WORDS.has(t)) return null;
  if (t.length > 6) return t.slice(0, 6);
  return t.length > 3 && t.endsWith("s") ? t.slice(0, -1) : t;
}

interface SearchDoc {
  readonly id: string;
  readonly slug: string;
  readonly name: string;
  readonly description: string;
  readonly params: string;
}

export interface ActionSearch {
  /**
   * Slugs ranked best first. `every: true` keeps only actions matching every query word (REST `?q=`); otherwise any
   * word counts. `only` restricts the candidates (a tool set's actions).
   */
  search(query: string, options?: { readonly every?: boolean; readonly only?: (slug: string) => boolean }): string[];
}

export function createActionSearch(actions: readonly CompiledAction[]): ActionSearch {
  const index = new MiniSearch<SearchDoc>({
    fields: ["slug", "name", "description", "params"],
    storeFields: [],
    // Slugs split on "_" so SCALE_AI_CREATE_BATCH reads as words.
    tokenize: (text) => text.split(/[\s_\-.,;:!?()[\]{}"'`/|]+/u),
    processTerm: searchTerm,
    searchOptions: { boost: { slug: 3, name: 3, description: 1, params: 0.5 }, prefix: true, processTerm: queryTerms },
  });
  index.addAll(actions.map((a) => ({
    id: a.manifest.slug,
    slug: a.manifest.slug,
    name: a.manifest.name,
    description: a.manifest.description,
    params: paramDescriptions(a.manifest.input),
  })));
  return {
    search(query, options = {}) {
      const hits = index.search(query, {
        combineWith: options.every ? "AND" : "OR",
        ...(options.only ? { filter: (r) => options.only!(String(r.id)) } : {}),
      });
      return hits.map((h) => String(h.id));
    },
  };
}

/** The descriptions of an input schema's top-level properties, joined. */
function paramDescriptions(input: Record<string, unknown>): string {
  const properties = isPlainObject(input["properties"]) ? input["properties"] : {};
  return Object.entries(properties)
    .map(([name, schema]) => `${name} ${isPlainObject(schema) && typeof schema["description"] === "string" ? schema["description"] : ""}`)
    .join(" ");
}
