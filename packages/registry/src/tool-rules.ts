/**
 * The rules each LLM vendor sets for a tool definition, written down as data and as a checker that the tests run
 * on every exported action. Sources (read when this was written):
 *
 * - OpenAI, Chat Completions function tools: `{type: "function", function: {name, description, parameters,
 *   strict}}`; name `a-z A-Z 0-9 _ -`, at most 64; description at most 1024 characters (the API answers
 *   `string_above_max_length` beyond); `parameters` must be `type: "object"` without `oneOf`/`anyOf`/`allOf`/
 *   `enum`/`not` at the top level; Structured Outputs' supported subset: types, `properties`, `required`,
 *   `additionalProperties`, `items`, `enum`, `const`, `anyOf`, `$ref`/`$defs`, string `pattern`/`format` (date-time,
 *   time, date, duration, email, hostname, ipv4, ipv6, uuid), number `minimum`/`maximum`/`exclusive*`/`multipleOf`,
 *   array `minItems`/`maxItems`; at most 5000 object properties, 10 levels of nesting, 1000 enum values.
 * - Anthropic Messages API tools: `{name, description, input_schema}`; name `^[a-zA-Z0-9_-]{1,64}$`;
 *   `input_schema` a JSON Schema of `type: "object"`, rejected with `oneOf`, `allOf` or `anyOf` at the top level.
 * - MCP 2025-06-18 `Tool`: `{name, title?, description?, inputSchema, outputSchema?, annotations?, _meta?}`;
 *   `inputSchema` and `outputSchema` are JSON Schema objects with `type: "object"`; annotations are hints
 *   (`title`, `readOnlyHint`, `destructiveHint`, `idempotentHint`, `openWorldHint`).
 *
 * Where a vendor documents no limit we keep to the common one (64-character names) so one name works everywhere.
 */
import { isPlainObject } from "./json-pointer";
import { refOf, resolveLocalRef, walkSchema } from "./schema-walk";
import type { JsonSchema } from "./types";

export type ToolFormat = "openai" | "anthropic" | "mcp";
export const TOOL_FORMATS: readonly ToolFormat[] = ["openai", "anthropic", "mcp"];

export const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;
export const OPENAI_DESCRIPTION_MAX = 1024;
export const OPENAI_FORMATS: ReadonlySet<string> = new Set(["date-time", "time", "date", "duration", "email", "hostname", "ipv4", "ipv6", "uuid"]);
const OPENAI_MAX_PROPERTIES = 5000;
const OPENAI_MAX_DEPTH = 10;
const OPENAI_MAX_ENUM_VALUES = 1000;

const COMMON_KEYWORDS = [
  ...["type", "description", "title", "default", "properties", "required", "additionalProperties", "items", "enum", "const", "anyOf"],
  ...["$ref", "$defs", "pattern", "format", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "minItems", "maxItems"],
  // Outside Structured Outputs' strict subset, but accepted by function calling without `strict` (which we use):
  // length bounds guide the model, and the server validates them anyway.
  ...["minLength", "maxLength"],
];

/** The JSON Schema keywords each format's exported schemas may hold. */
export const ALLOWED_KEYWORDS: Readonly<Record<ToolFormat, ReadonlySet<string>>> = {
  openai: new Set(COMMON_KEYWORDS),
  anthropic: new Set([...COMMON_KEYWORDS, "oneOf", "allOf", "not", "uniqueItems", "minProperties", "maxProperties", "prefixItems"]),
  mcp: new Set([
    ...COMMON_KEYWORDS,
    ...["oneOf", "allOf", "not", "uniqueItems", "minProperties", "maxProperties", "prefixItems", "patternProperties", "propertyNames"],
    ...["dependentRequired", "contains", "minContains", "maxContains", "examples", "deprecated", "readOnly", "writeOnly"],
  ]),
};

/** Keywords that may not sit at the root of the tool's input schema. */
const ROOT_FORBIDDEN: Readonly<Record<ToolFormat, readonly string[]>> = {
  openai: ["oneOf", "anyOf", "allOf", "enum", "not", "const"],
  anthropic: ["oneOf", "anyOf", "allOf"],
  mcp: ["oneOf", "anyOf", "allOf"],
};

const TOOL_KEYS: Readonly<Record<ToolFormat, ReadonlySet<string>>> = {
  openai: new Set(["type", "function"]),
  anthropic: new Set(["name", "description", "input_schema"]),
  mcp: new Set(["name", "title", "description", "inputSchema", "outputSchema", "annotations", "_meta"]),
};
const MCP_ANNOTATIONS = new Set(["title", "readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint"]);

/** Every way `tool` breaks `format`'s rules; empty when the vendor would accept it. */
export function toolRuleViolations(tool: unknown, format: ToolFormat): string[] {
  const problems: string[] = [];
  if (!isPlainObject(tool)) return ["a tool definition is an object"];
  for (const key of Object.keys(tool)) if (!TOOL_KEYS[format].has(key)) problems.push(`unexpected field "${key}"`);

  let name: unknown;
  let description: unknown;
  const schemas: [string, unknown, boolean][] = [];
  if (format === "openai") {
    if (tool["type"] !== "function") problems.push('type must be "function"');
    const fn = tool["function"];
    if (!isPlainObject(fn)) return [...problems, "function must be an object"];
    for (const key of Object.keys(fn)) if (!["name", "description", "parameters", "strict"].includes(key)) problems.push(`unexpected field "function.${key}"`);
    if (fn["strict"] !== undefined && typeof fn["strict"] !== "boolean") problems.push("function.strict must be a boolean");
    name = fn["name"];
    description = fn["description"];
    schemas.push(["function.parameters", fn["parameters"], true]);
    if (typeof description === "string" && description.length > OPENAI_DESCRIPTION_MAX) problems.push(`description is longer than ${OPENAI_DESCRIPTION_MAX} characters`);
  } else if (format === "anthropic") {
    name = tool["name"];
    description = tool["description"];
    schemas.push(["input_schema", tool["input_schema"], true]);
  } else {
    name = tool["name"];
    description = tool["description"];
    schemas.push(["inputSchema", tool["inputSchema"], true]);
    if (tool["outputSchema"] !== undefined) schemas.push(["outputSchema", tool["outputSchema"], true]);
    if (tool["title"] !== undefined && typeof tool["title"] !== "string") problems.push("title must be a string");
    const annotations = tool["annotations"];
    if (annotations !== undefined) {
      if (!isPlainObject(annotations)) problems.push("annotations must be an object");
      else
        for (const [key, value] of Object.entries(annotations)) {
          if (!MCP_ANNOTATIONS.has(key)) problems.push(`unknown annotation "${key}"`);
          else if (key === "title" ? typeof value !== "string" : typeof value !== "boolean") problems.push(`annotation ${key} has the wrong type`);
        }
    }
  }
  if (typeof name !== "string" || !TOOL_NAME.test(name)) problems.push(`name ${JSON.stringify(name)} must match ${TOOL_NAME.source}`);
  if (typeof description !== "string" || description.trim() === "") problems.push("description must be a non-empty string");
  for (const [where, schema, isRoot] of schemas) problems.push(...schemaViolations(schema, format, where, isRoot));
  return problems;
}

function schemaViolations(schema: unknown, format: ToolFormat, where: string, isRoot: boolean): string[] {
  const problems: string[] = [];
  if (!isPlainObject(schema)) return [`${where} must be a JSON Schema object`];
  if (isRoot && schema["type"] !== "object") problems.push(`${where} must have type "object" at the top level`);
  for (const keyword of ROOT_FORBIDDEN[format]) if (Object.hasOwn(schema, keyword)) problems.push(`${where} must not have ${keyword} at the top level`);
  let properties = 0;
  let enumValues = 0;
  walkSchema(schema as JsonSchema, "", (sub, pointer) => {
    if (!isPlainObject(sub)) return;
    for (const keyword of Object.keys(sub)) {
      if (!ALLOWED_KEYWORDS[format].has(keyword)) problems.push(`${where}${pointer}: keyword "${keyword}" is not accepted`);
    }
    const ref = refOf(sub);
    if (ref !== undefined && resolveLocalRef(schema as JsonSchema, ref) === undefined) problems.push(`${where}${pointer}: $ref ${ref} does not resolve`);
    if (format === "openai") {
      if (typeof sub["format"] === "string" && !OPENAI_FORMATS.has(sub["format"])) problems.push(`${where}${pointer}: format "${sub["format"]}" is not supported`);
      if (isPlainObject(sub["properties"])) properties += Object.keys(sub["properties"]).length;
      if (Array.isArray(sub["enum"])) enumValues += sub["enum"].length;
      if (objectDepth(pointer) > OPENAI_MAX_DEPTH) problems.push(`${where}${pointer}: nested deeper than ${OPENAI_MAX_DEPTH} levels`);
    }
  });
  if (properties > OPENAI_MAX_PROPERTIES) problems.push(`${where}: more than ${OPENAI_MAX_PROPERTIES} properties`);
  if (enumValues > OPENAI_MAX_ENUM_VALUES) problems.push(`${where}: more than ${OPENAI_MAX_ENUM_VALUES} enum values`);
  return problems;
}

/** Object nesting depth of a schema pointer: each `properties/<name>` step is one level. */
function objectDepth(pointer: string): number {
  return (pointer.match(/\/properties\//g) ?? []).length;
}
