import Ajv2020 from "ajv/dist/2020";
import type { ErrorObject } from "ajv";
import addFormats from "ajv-formats";

export type { ErrorObject };
export type Ajv = InstanceType<typeof Ajv2020>;

/** Keyword names of the manifest format's custom keywords (FORMAT.md, "Custom keywords"). */
export const X_SECRET = "x-secret";
export const X_MAX_JSON_BYTES = "x-max-json-bytes";

/** UTF-8 byte length of `JSON.stringify(value)`: what `x-max-json-bytes` limits. */
export function jsonByteLength(value: unknown): number {
  const text = JSON.stringify(value);
  return text === undefined ? 0 : Buffer.byteLength(text, "utf8");
}

/**
 * The ajv instance action schemas are compiled with: draft 2020-12, formats, every error (not just the first), and
 * strict mode, so a typo such as `maxLenght` or a `required` name missing from `properties` fails at boot instead of
 * silently validating nothing. Union types (`["string", "null"]`) are allowed: upstream answers have nullable fields.
 */
export function createSchemaAjv(): Ajv {
  const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
  addFormats(ajv);
  ajv.addKeyword({ keyword: X_SECRET, schemaType: "boolean", metaSchema: { type: "boolean" } });
  ajv.addKeyword({ keyword: "x-sensitive", schemaType: "boolean", metaSchema: { type: "boolean" } });
  const maxJsonBytes: ((limit: number, data: unknown) => boolean) & { errors?: Partial<ErrorObject>[] } = (limit, data) => {
    const size = jsonByteLength(data);
    if (size <= limit) return true;
    maxJsonBytes.errors = [{ keyword: X_MAX_JSON_BYTES, message: `must be at most ${limit} bytes as JSON`, params: { limit, size } }];
    return false;
  };
  ajv.addKeyword({ keyword: X_MAX_JSON_BYTES, schemaType: "number", metaSchema: { type: "integer", minimum: 1 }, errors: true, validate: maxJsonBytes });
  return ajv;
}
