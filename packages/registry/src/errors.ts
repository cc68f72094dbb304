/**
 * Plain errors the registry throws for a caller's mistake; the REST layer maps them to its error catalogue
 * (`UnknownActionError` → NOT_FOUND, `InvalidCursorError` → INVALID_CURSOR, …) by class.
 */
export class UnknownActionError extends Error {
  readonly slug: string;
  constructor(slug: string) {
    super(`Action ${slug} not found.`);
    this.name = "UnknownActionError";
    this.slug = slug;
  }
}

export class UnknownIntegrationError extends Error {
  readonly slug: string;
  constructor(slug: string) {
    super(`Integration ${slug} not found.`);
    this.name = "UnknownIntegrationError";
    this.slug = slug;
  }
}

export class InvalidCursorError extends Error {
  constructor() {
    super("The cursor is not one this API issued.");
    this.name = "InvalidCursorError";
  }
}

export class UnknownTriggerError extends Error {
  readonly slug: string;
  constructor(slug: string) {
    super(`Trigger ${slug} not found.`);
    this.name = "UnknownTriggerError";
    this.slug = slug;
  }
}
