/**
 * Plain errors the registry throws for a caller's mistake; the REST layer maps them to its error catalogue
 * (`UnknownActionError` → NOT_FOUND, `InvalidCursorError` → INVALID_CURSOR, …) by class.
 */

/** The base of "no `kind` has that slug": the message names both, `slug` carries the slug. */
function unknownSlugError(kind: "Action" | "Integration" | "Trigger") {
  return class extends Error {
    readonly slug: string;
    constructor(slug: string) {
      super(`${kind} ${slug} not found.`);
      this.slug = slug;
    }
  };
}

export class UnknownActionError extends unknownSlugError("Action") {
  override readonly name = "UnknownActionError";
}

export class UnknownIntegrationError extends unknownSlugError("Integration") {
  override readonly name = "UnknownIntegrationError";
}

export class UnknownTriggerError extends unknownSlugError("Trigger") {
  override readonly name = "UnknownTriggerError";
}

export class InvalidCursorError extends Error {
  override readonly name = "InvalidCursorError";
  constructor() {
    super("The cursor is not one this API issued.");
  }
}
