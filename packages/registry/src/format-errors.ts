import type { ErrorObject } from "./ajv";
import { X_MAX_JSON_BYTES } from "./ajv";
import { appendPointer, parsePointer } from "./json-pointer";

/** One validation problem: where (JSON pointer into the validated value), which keyword, and a sentence. */
export interface ValidationIssue {
  readonly path: string;
  readonly keyword: string;
  readonly message: string;
}

/**
 * Turns ajv errors into issues a person understands. `required` and `additionalProperties` point at the property
 * concerned (the missing or the unexpected one), not at its parent. Duplicates (same path, keyword and message,
 * which `allErrors` produces through `anyOf` branches) are dropped.
 */
export function formatAjvErrors(errors: readonly ErrorObject[] | null | undefined, rootLabel = "input"): ValidationIssue[] {
  const out: ValidationIssue[] = [];
  const seen = new Set<string>();
  for (const error of errors ?? []) {
    // "must match \"then\" schema" only repeats the error the `then` branch already reported, at a vaguer place.
    if (error.keyword === "if") continue;
    const issue = formatOne(error, rootLabel);
    const key = `${issue.path}\u0000${issue.keyword}\u0000${issue.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(issue);
  }
  return out;
}

function formatOne(error: ErrorObject, rootLabel: string): ValidationIssue {
  const params = error.params as Record<string, unknown>;
  const at = error.instancePath;
  const label = labelOf(at, rootLabel);
  switch (error.keyword) {
    case "required": {
      const name = String(params["missingProperty"]);
      const path = appendPointer(at, name);
      return { path, keyword: "required", message: `${labelOf(path, rootLabel)} is required` };
    }
    case "additionalProperties": {
      const name = String(params["additionalProperty"]);
      const path = appendPointer(at, name);
      return { path, keyword: "additionalProperties", message: `${labelOf(path, rootLabel)} is not an allowed property` };
    }
    case "dependentRequired":
      return { path: at, keyword: error.keyword, message: `${label} needs ${quote(params["missingProperty"])} when ${quote(params["property"])} is given` };
    case "type":
      return { path: at, keyword: "type", message: `${label} must be ${article(String(params["type"]))}` };
    case "enum":
      return { path: at, keyword: "enum", message: `${label} must be one of ${listOf(params["allowedValues"])}` };
    case "const":
      return { path: at, keyword: "const", message: `${label} must be ${JSON.stringify(params["allowedValue"])}` };
    case "maxLength":
      return { path: at, keyword: error.keyword, message: `${label} must be at most ${plural(params["limit"], "character")} long` };
    case "minLength":
      return { path: at, keyword: error.keyword, message: Number(params["limit"]) === 1 ? `${label} must not be empty` : `${label} must be at least ${plural(params["limit"], "character")} long` };
    case "maxItems":
      return { path: at, keyword: error.keyword, message: `${label} must have at most ${plural(params["limit"], "item")}` };
    case "minItems":
      return { path: at, keyword: error.keyword, message: `${label} must have at least ${plural(params["limit"], "item")}` };
    case "maxProperties":
      return { path: at, keyword: error.keyword, message: `${label} must have at most ${plural(params["limit"], "property", "properties")}` };
    case "minProperties":
      return { path: at, keyword: error.keyword, message: `${label} must have at least ${plural(params["limit"], "property", "properties")}` };
    case "maximum":
    case "minimum":
    case "exclusiveMaximum":
    case "exclusiveMinimum":
      return { path: at, keyword: error.keyword, message: `${label} must be ${String(params["comparison"])} ${String(params["limit"])}` };
    case "multipleOf":
      return { path: at, keyword: error.keyword, message: `${label} must be a multiple of ${String(params["multipleOf"])}` };
    case "format":
      return { path: at, keyword: "format", message: `${label} must be a valid ${String(params["format"])}` };
    case "pattern":
      return { path: at, keyword: "pattern", message: `${label} must match the pattern ${String(params["pattern"])}` };
    case "uniqueItems":
      return { path: at, keyword: error.keyword, message: `${label} must not contain duplicates (items ${String(params["j"])} and ${String(params["i"])} are equal)` };
    case "oneOf":
      return { path: at, keyword: error.keyword, message: `${label} must match exactly one of the allowed shapes` };
    case "anyOf":
      return { path: at, keyword: error.keyword, message: `${label} must match one of the allowed shapes` };
    case "not":
      return { path: at, keyword: error.keyword, message: `${label} has a form that is not allowed here` };
    case "propertyNames":
      return { path: at, keyword: error.keyword, message: `${label} has a property name that is not allowed (${String(params["propertyName"])})` };
    case X_MAX_JSON_BYTES:
      return { path: at, keyword: error.keyword, message: `${label} must be at most ${String(params["limit"])} bytes as JSON (it is ${String(params["size"])})` };
    default:
      return { path: at, keyword: error.keyword, message: `${label} ${error.message ?? "is not valid"}` };
  }
}

/**
 * A readable name for a place: `""` → "input", `/name` → "name", `/attachments/0/url` → "attachments[0].url".
 */
export function labelOf(pointer: string, rootLabel = "input"): string {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) return rootLabel;
  let label = "";
  for (const token of tokens) {
    if (/^(0|[1-9][0-9]*)$/.test(token)) label += `[${token}]`;
    else label += label === "" ? token : `.${token}`;
  }
  return label.startsWith("[") ? `${rootLabel}${label}` : label;
}

function article(type: string): string {
  const types = type.split(",");
  const named = types.map((t) => (t === "integer" ? "an integer" : t === "array" ? "an array" : t === "object" ? "an object" : t === "null" ? "null" : `a ${t}`));
  return named.length === 1 ? named[0]! : `${named.slice(0, -1).join(", ")} or ${named.at(-1)!}`;
}

function listOf(values: unknown): string {
  if (!Array.isArray(values)) return "the allowed values";
  const shown = values.slice(0, 20).map((v) => JSON.stringify(v));
  return values.length > 20 ? `${shown.join(", ")}, … (${values.length} values)` : shown.join(", ");
}

function plural(n: unknown, one: string, many = `${one}s`): string {
  return `${String(n)} ${Number(n) === 1 ? one : many}`;
}

function quote(value: unknown): string {
  return JSON.stringify(String(value));
}
