import { createHash } from "node:crypto";
import { inlineRefs } from "./bundle";
import { isPlainObject } from "./json-pointer";
import { mapSchema } from "./schema-walk";
import { ALLOWED_KEYWORDS, OPENAI_DESCRIPTION_MAX, OPENAI_FORMATS, TOOL_NAME, type ToolFormat } from "./tool-rules";
import type { HttpMethod, JsonSchema, JsonSchemaObject } from "./types";

/** What a tool definition is made from: the public view of an action (what `getAction` returns, plus its method). */
export interface ToolSource {
  readonly slug: string;
  readonly name: string;
  readonly description: string;
  readonly input_schema: JsonSchema;
  readonly output_schema: JsonSchema;
  /** The HTTP method, for MCP's behaviour hints (GET is read-only, DELETE destructive). */
  readonly method?: HttpMethod;
}

export interface OpenAiTool {
  readonly type: "function";
  readonly function: { readonly name: string; readonly description: string; readonly parameters: JsonSchemaObject; readonly strict: false };
}
export interface AnthropicTool {
  readonly name: string;
  readonly description: string;
  readonly input_schema: JsonSchemaObject;
}
export interface McpTool {
  readonly name: string;
  readonly title: string;
  readonly description: string;
  readonly inputSchema: JsonSchemaObject;
  readonly outputSchema?: JsonSchemaObject;
  readonly annotations: { readonly readOnlyHint: boolean; readonly destructiveHint: boolean; readonly idempotentHint: boolean; readonly openWorldHint: boolean };
}
export type ToolDefinition = OpenAiTool | AnthropicTool | McpTool;

/**
 * An action as a tool definition each vendor accepts (rules and sources in `tool-rules.ts`):
 *
 * - `openai`: the Chat Completions function tool `{type: "function", function: {name, description, parameters,
 *   strict: false}}` (the Responses API's flat shape is the same fields one level up). Not `strict: true`: strict
 *   mode requires every property to be required and every object closed, which free-form inputs such as task
 *   `metadata` cannot be. Keywords are kept to Structured Outputs' subset anyway (plus length bounds), `oneOf`
 *   becomes `anyOf`, unsupported formats are dropped, and the description is cut to 1024 characters.
 * - `anthropic`: `{name, description, input_schema}`.
 * - `mcp`: `{name, title, description, inputSchema, outputSchema?, annotations}`; `outputSchema` only when the
 *   output is an object (MCP's `structuredContent` is one), annotations from the HTTP method.
 *
 * For all three: `$ref`s are inlined (a recursive definition keeps its `$defs`), `x-*` keywords, `$schema`, `$id`,
 * `$comment` and `content*` are removed, and `examples` kept only for MCP. What a vendor drops (e.g. `maxProperties`
 * or `x-max-json-bytes` for OpenAI) still holds: the server validates every input against the full schema.
 */
export function toTool(action: ToolSource, format: "openai"): OpenAiTool;
export function toTool(action: ToolSource, format: "anthropic"): AnthropicTool;
export function toTool(action: ToolSource, format: "mcp"): McpTool;
export function toTool(action: ToolSource, format: ToolFormat): ToolDefinition;
export function toTool(action: ToolSource, format: ToolFormat): ToolDefinition {
  const name = toolName(action.slug);
  const description = action.description.trim() === "" ? action.name : action.description.trim();
  const input = rootObject(vendorSchema(action.input_schema, format));
  if (format === "openai") return { type: "function", function: { name, description: truncate(description, OPENAI_DESCRIPTION_MAX), parameters: input, strict: false } };
  if (format === "anthropic") return { name, description, input_schema: input };
  const output = vendorSchema(action.output_schema, format);
  const method = action.method ?? "POST";
  return {
    name,
    title: action.name,
    description,
    inputSchema: input,
    ...(isPlainObject(output) && output["type"] === "object" ? { outputSchema: output } : {}),
    annotations: { readOnlyHint: method === "GET", destructiveHint: method === "DELETE", idempotentHint: method === "GET" || method === "PUT" || method === "DELETE", openWorldHint: true },
  };
}

/**
 * A tool name from an action slug: the slug itself when it fits the vendors' `^[a-zA-Z0-9_-]{1,64}$` (all Scale
 * AI slugs do); otherwise its first 55 characters and 8 hex digits of its SHA-256, still unique and stable.
 */
export function toolName(slug: string): string {
  if (TOOL_NAME.test(slug)) return slug;
  const safe = slug.replace(/[^a-zA-Z0-9_-]/g, "_");
  const hash = createHash("sha256").update(slug).digest("hex").slice(0, 8);
  return safe.length <= 64 ? safe : `${safe.slice(0, 55)}_${hash}`;
}

/** A schema rewritten to what `format` accepts (see `toTool`). */
export function vendorSchema(schema: JsonSchema, format: ToolFormat): JsonSchema {
  const allowed = ALLOWED_KEYWORDS[format];
  return mapSchema(inlineRefs(schema), (node) => {
    let s: JsonSchemaObject = { ...node };
    if (format === "openai") {
      if (Array.isArray(s["oneOf"]) && s["anyOf"] === undefined) s = { ...without(s, "oneOf"), anyOf: s["oneOf"] };
      if (Array.isArray(s["allOf"])) s = mergeAllOf(s);
      if (typeof s["format"] === "string" && !OPENAI_FORMATS.has(s["format"])) s = without(s, "format");
    }
    return Object.fromEntries(Object.entries(s).filter(([keyword]) => allowed.has(keyword)));
  });
}

/** The top of an input schema as vendors want it: an object schema that lists its properties (even none). */
function rootObject(schema: JsonSchema): JsonSchemaObject {
  const s: JsonSchemaObject = isPlainObject(schema) ? { ...schema } : {};
  return { ...s, type: "object", properties: isPlainObject(s["properties"]) ? s["properties"] : {} };
}

/** `allOf` of object schemas merged into one (properties and required united), for vendors without `allOf`. */
function mergeAllOf(s: JsonSchemaObject): JsonSchemaObject {
  let merged = without(s, "allOf");
  for (const branch of s["allOf"] as unknown[]) {
    if (!isPlainObject(branch)) continue;
    const properties = { ...(isPlainObject(merged["properties"]) ? merged["properties"] : {}), ...(isPlainObject(branch["properties"]) ? branch["properties"] : {}) };
    const required = [...new Set([...(Array.isArray(merged["required"]) ? merged["required"] : []), ...(Array.isArray(branch["required"]) ? branch["required"] : [])])];
    merged = { ...branch, ...merged, ...(Object.keys(properties).length > 0 ? { properties } : {}), ...(required.length > 0 ? { required } : {}) };
  }
  return merged;
}

function without(s: JsonSchemaObject, key: string): JsonSchemaObject {
  const { [key]: _dropped, ...rest } = s;
  return rest;
}

/** Cuts text to `max` characters at a word boundary, ending with an ellipsis. */
function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max - 1);
  const space = cut.lastIndexOf(" ");
  return `${(space > max * 0.6 ? cut.slice(0, space) : cut).trimEnd()}…`;
}
