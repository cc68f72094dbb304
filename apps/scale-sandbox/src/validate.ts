import { Ajv, type ErrorObject } from "ajv";
import { invalidParam } from "./errors";

// One ajv instance for every body the sandbox checks. Task bodies keep unknown keys (Scale echoes undocumented
// parameters into `params`), so schemas say what they bound rather than forbidding extras.
const ajv = new Ajv({ allErrors: false, strict: false, coerceTypes: false, useDefaults: false });

/** A JSON Schema, as plain data. */
export type JsonSchema = Record<string, unknown>;

/** A compiled check: returns the value typed as T, or throws a 400 worded as Scale words it. */
export type Check<T> = (value: unknown) => T;

export function compileCheck<T>(schema: JsonSchema): Check<T> {
  const validate = ajv.compile(schema);
  return (value: unknown): T => {
    if (validate(value)) return value as T;
    const first = validate.errors?.[0];
    if (!first) throw invalidParam("value", "is invalid");
    const { name, reason } = describe(first);
    throw invalidParam(name, reason);
  };
}

/** `/geometries/box/0` → `geometries.box[0]`, the path style of Scale's (Joi) messages. */
function pathOf(instancePath: string, extra?: unknown): string {
  const parts = instancePath.split("/").slice(1).map((p) => p.replaceAll("~1", "/").replaceAll("~0", "~"));
  if (typeof extra === "string") parts.push(extra);
  let out = "";
  for (const part of parts) out += /^\d+$/.test(part) ? `[${part}]` : out === "" ? part : `.${part}`;
  return out || "value";
}

const TYPE_WORDS: Record<string, string> = {
  string: "must be a string",
  integer: "must be an integer",
  number: "must be a number",
  boolean: "must be a boolean",
  object: "must be of type object",
  array: "must be an array",
  null: "must be null",
};

function describe(error: ErrorObject): { name: string; reason: string } {
  const p = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case "required":
      return { name: pathOf(error.instancePath, p["missingProperty"]), reason: "is required" };
    case "additionalProperties":
      return { name: pathOf(error.instancePath, p["additionalProperty"]), reason: "is not allowed" };
    case "type": {
      const types = String(p["type"]).split(",");
      const words = types.map((t) => TYPE_WORDS[t] ?? `must be a ${t}`);
      return { name: pathOf(error.instancePath), reason: words.join(" or ").replace(/ or must be /g, " or ") };
    }
    case "maxItems":
      return { name: pathOf(error.instancePath), reason: `must contain less than or equal to ${String(p["limit"])} items` };
    case "minItems":
      return { name: pathOf(error.instancePath), reason: `must contain at least ${String(p["limit"])} items` };
    case "minLength":
      return {
        name: pathOf(error.instancePath),
        reason: p["limit"] === 1 ? "is not allowed to be empty" : `length must be at least ${String(p["limit"])} characters long`,
      };
    case "maxLength":
      return { name: pathOf(error.instancePath), reason: `length must be less than or equal to ${String(p["limit"])} characters long` };
    case "enum":
      return { name: pathOf(error.instancePath), reason: `must be one of [${(p["allowedValues"] as unknown[]).join(", ")}]` };
    case "minimum":
      return { name: pathOf(error.instancePath), reason: `must be greater than or equal to ${String(p["limit"])}` };
    case "maximum":
      return { name: pathOf(error.instancePath), reason: `must be less than or equal to ${String(p["limit"])}` };
    case "minProperties":
      return { name: pathOf(error.instancePath), reason: `must have at least ${String(p["limit"])} key` };
    default:
      return { name: pathOf(error.instancePath), reason: error.message ?? "is invalid" };
  }
}

/** Size of a value once serialised, in bytes (Scale caps metadata at 10 KB). */
export function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value) ?? "", "utf8");
}

export const METADATA_MAX_BYTES = 10 * 1024;

/** A metadata object: an object (not an array) of at most 10 KB serialised. */
export function checkMetadata(value: unknown, name = "metadata"): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw invalidParam(name, "must be of type object");
  if (jsonBytes(value) > METADATA_MAX_BYTES) throw invalidParam(name, "must be less than or equal to 10KB");
  return value as Record<string, unknown>;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function isEmail(value: string): boolean {
  return EMAIL.test(value);
}

/** A callback target as Scale takes it: a full http(s) URL or an email address. */
export function isCallbackTarget(value: string): boolean {
  if (isEmail(value)) return true;
  try {
    const url = new URL(value);
    return url.protocol === "http:" || url.protocol === "https:";
  } catch {
    return false;
  }
}
