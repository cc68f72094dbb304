import { AppError } from "@nagent/errors";
import { InvalidCursorError, type SchemaVersionSummary } from "@nagent/registry";
import { routeDocs } from "../schemas/common";

// What the action and trigger catalogues (routes/actions, routes/triggers) share: both page through the registry by
// cursor and keep each entry's schema versions.

/** Versions listed per action or trigger: the newest ones; older ones stay reachable one by one with `?version=N`. */
export const MAX_VERSIONS_LISTED = 100;

/** The OpenAPI header of a catalogue route. */
export const catalogueDoc = routeDocs("catalogue");

/** A page of a registry listing; a cursor the registry did not issue answers 400 INVALID_CURSOR. */
export function registryPage<T>(list: () => T): T {
  try {
    return list();
  } catch (error) {
    if (error instanceof InvalidCursorError) throw new AppError("INVALID_CURSOR", "The cursor is not one this API issued; start again without it.");
    throw error;
  }
}

/** A stored schema version without its schemas. Responses pick their fields: the registry's may grow. */
export function versionView(v: SchemaVersionSummary) {
  return {
    version: v.version,
    content_hash: v.content_hash,
    compatibility: v.compatibility,
    changes: v.changes.map(({ path, kind, message, direction, compatibility }) => ({ path, kind, message, direction, compatibility })),
    created_at: v.created_at,
  };
}
