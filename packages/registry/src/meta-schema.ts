import { readFileSync } from "node:fs";
import { join } from "node:path";
import Ajv2020 from "ajv/dist/2020";
import addFormats from "ajv-formats";
import type { ValidateFunction } from "ajv";
import { formatAjvErrors } from "./format-errors";
import { X_MAX_JSON_BYTES, X_SECRET } from "./ajv";
import type { ManifestProblem } from "./types";
import { ownerAt } from "./problems";
import { INTEGRATIONS_DIR } from "./paths";

/** Where the repository keeps the manifest meta-schema: `integrations/manifest.schema.json`. */
export const META_SCHEMA_PATH = join(INTEGRATIONS_DIR, "manifest.schema.json");

const cache = new Map<string, ValidateFunction>();

/** The compiled meta-schema (compiled once per path and process). */
export function metaSchemaValidator(path: string = META_SCHEMA_PATH): ValidateFunction {
  const cached = cache.get(path);
  if (cached !== undefined) return cached;
  const schema = JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
  // strictTypes off: the meta-schema uses `properties`/`required` inside `not`/`anyOf` branches without repeating
  // `type`, which is correct JSON Schema but trips ajv's stricter style check.
  const ajv = new Ajv2020({ allErrors: true, strict: true, strictTypes: false, strictRequired: false });
  addFormats(ajv);
  // Manifests may use the custom keywords in their schemas; the draft 2020-12 meta-schema allows unknown keywords,
  // so nothing to declare there, but ajv in strict mode must know them if it ever compiles one.
  ajv.addKeyword({ keyword: X_SECRET });
  ajv.addKeyword({ keyword: X_MAX_JSON_BYTES });
  const validate = ajv.compile(schema);
  cache.set(path, validate);
  return validate;
}

/** Validates one parsed manifest against the meta-schema; every problem names the action it falls in, if any. */
export function checkMetaSchema(file: string, doc: unknown, path?: string): ManifestProblem[] {
  const validate = metaSchemaValidator(path);
  if (validate(doc)) return [];
  return formatAjvErrors(validate.errors, "manifest").map((issue) => {
    return { file, ...ownerAt(doc, issue.path), pointer: issue.path, message: `${issue.message} (${issue.keyword})` };
  });
}
