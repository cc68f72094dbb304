import { invalidParam } from "./errors";

type RawQuery = Record<string, string | string[] | undefined>;

/**
 * Reads a query string the way Scale's clients write it: repeated keys for lists (`tags=a&tags=b`), `+` for spaces
 * (decoded by the parser), booleans as `true`/`false` or Python's `True`/`False`, dates as ISO 8601 or the SDK's
 * `YYYY-MM-DD HH:MM:SS.ffffff` (UTC). Empty values count as absent. Bad values answer 400 as Scale does.
 */
export class Query {
  private readonly raw: RawQuery;

  /** With `allowed`, any other parameter answers 400 (Scale rejects unknown parameters on GET /v1/tasks). */
  constructor(raw: unknown, allowed?: readonly string[]) {
    this.raw = (raw ?? {}) as RawQuery;
    if (allowed) {
      for (const name of Object.keys(this.raw)) if (!allowed.includes(name)) throw invalidParam(name, "is not allowed");
    }
  }

  /** All values of a parameter, in order; undefined when absent. */
  list(name: string): string[] | undefined {
    const value = this.raw[name];
    if (value === undefined) return undefined;
    const values = (Array.isArray(value) ? value : [value]).filter((v) => v !== "");
    return values.length > 0 ? values : undefined;
  }

  /** A single-valued parameter; a repeated one answers 400. */
  string(name: string, maxLength = 1024): string | undefined {
    const values = this.list(name);
    if (values === undefined) return undefined;
    if (values.length > 1) throw invalidParam(name, "must be a string");
    const value = values[0] as string;
    if (value.length > maxLength) throw invalidParam(name, `length must be less than or equal to ${maxLength} characters long`);
    return value;
  }

  /**
   * A keyset cursor: the id of the last record of the previous page, read as that record's `seq` (pages run newest
   * first, so the next page holds the records below it); +Infinity without one. An id no record has answers 400.
   */
  cursorSeq(name: string, records: ReadonlyMap<string, { readonly seq: number }>): number {
    const id = this.string(name, 64);
    if (id === undefined) return Number.POSITIVE_INFINITY;
    const at = records.get(id);
    if (!at) throw invalidParam(name, "is invalid");
    return at.seq;
  }

  /** Values given as repeated keys and/or comma-joined in one value (`customer_review_status=accepted,fixed`). */
  commaList(name: string): string[] | undefined {
    const values = this.list(name)?.flatMap((v) => v.split(",")).map((v) => v.trim()).filter(Boolean);
    return values && values.length > 0 ? values : undefined;
  }

  int(name: string, bounds: { min: number; max?: number }): number | undefined {
    const text = this.string(name, 32);
    if (text === undefined) return undefined;
    if (!/^-?\d+$/.test(text)) throw invalidParam(name, "must be a number");
    const value = Number(text);
    if (value < bounds.min) throw invalidParam(name, `must be greater than or equal to ${bounds.min}`);
    if (bounds.max !== undefined && value > bounds.max) throw invalidParam(name, `must be less than or equal to ${bounds.max}`);
    return value;
  }

  bool(name: string): boolean | undefined {
    const text = this.string(name, 16);
    if (text === undefined) return undefined;
    const lower = text.toLowerCase();
    if (lower === "true") return true;
    if (lower === "false") return false;
    throw invalidParam(name, "must be a boolean");
  }

  oneOf<T extends string>(name: string, values: readonly T[]): T | undefined {
    const text = this.string(name, 64);
    if (text === undefined) return undefined;
    if (!(values as readonly string[]).includes(text)) throw invalidParam(name, `must be one of [${values.join(", ")}]`);
    return text as T;
  }

  /** A timestamp in milliseconds since the epoch. */
  date(name: string): number | undefined {
    const text = this.string(name, 64);
    if (text === undefined) return undefined;
    const time = parseTimestamp(text);
    if (time === undefined) throw invalidParam(name, "must be a valid date");
    return time;
  }
}

/**
 * `2021-04-25`, `2021-04-25T03:14:15-07:00` or the Python SDK's `2021-04-25 03:14:15.123456`; without a zone the
 * time is UTC, as the SDK documents.
 */
export function parseTimestamp(text: string): number | undefined {
  const match = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)(Z|[+-]\d{2}:?\d{2})?)?$/.exec(text.trim());
  if (!match) return undefined;
  const [, day, time, zone] = match;
  // JavaScript dates keep milliseconds: drop the microseconds the Python SDK adds.
  const clock = time ? time.replace(/(\.\d{3})\d+$/, "$1") : "00:00:00";
  const value = Date.parse(`${day}T${clock}${zone ?? "Z"}`);
  return Number.isNaN(value) ? undefined : value;
}
