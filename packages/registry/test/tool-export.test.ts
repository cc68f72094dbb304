import { describe, expect, it } from "vitest";
import Ajv2020 from "ajv/dist/2020";
import { loadRegistry, TOOL_FORMATS, toolName, toolRuleViolations, toTool, type AnthropicTool, type McpTool, type OpenAiTool } from "@nagent/registry";
import { VALID_DIR } from "./manifest-fixtures";

const registry = loadRegistry(VALID_DIR);
const slugs = registry.listActions({ limit: 100 }).actions.map((a) => a.slug);

/** A vendor would have to compile the schema: it must at least be valid JSON Schema. */
function compiles(schema: object): boolean {
  const ajv = new Ajv2020({ strict: false, validateFormats: false });
  ajv.compile(schema);
  return true;
}

describe("toTool on the demo manifest", () => {
  it.each(slugs.flatMap((slug) => TOOL_FORMATS.map((format) => [slug, format] as const)))("%s as %s follows the vendor's rules", (slug, format) => {
    const tool = registry.toTool(slug, format);
    expect(toolRuleViolations(tool, format)).toEqual([]);
    const schema = format === "openai" ? (tool as OpenAiTool).function.parameters : format === "anthropic" ? (tool as AnthropicTool).input_schema : (tool as McpTool).inputSchema;
    expect(compiles(schema)).toBe(true);
  });

  it("builds the OpenAI function tool: refs inlined, x-* and examples gone, unsupported formats dropped", () => {
    const tool = registry.toTool("DEMO_CREATE_TASK", "openai") as OpenAiTool;
    expect(tool.type).toBe("function");
    expect(tool.function.name).toBe("DEMO_CREATE_TASK");
    expect(tool.function.strict).toBe(false);
    const p = tool.function.parameters as any;
    expect(p.$defs).toBeUndefined();
    expect(p.examples).toBeUndefined();
    expect(p.properties.metadata).toEqual({ type: "object", description: "Free-form data kept with the task." });
    expect(p.properties.attachments.items).toEqual({
      type: "object",
      additionalProperties: false,
      required: ["url"],
      properties: { url: { type: "string", maxLength: 2048, description: "Where the file is." }, kind: { type: "string", enum: ["image", "text"], description: "What it is." } },
    });
  });

  it("builds the Anthropic tool with the same inlined input schema", () => {
    const tool = registry.toTool("DEMO_CREATE_TASK", "anthropic") as AnthropicTool;
    expect(Object.keys(tool)).toEqual(["name", "description", "input_schema"]);
    expect((tool.input_schema as any).properties.metadata).toEqual({ type: "object", maxProperties: 100, description: "Free-form data kept with the task." });
    expect((tool.input_schema as any).properties.attachments.items.properties.url.format).toBe("uri");
  });

  it("builds the MCP tool with title, examples, an object output schema and hints from the method", () => {
    const create = registry.toTool("DEMO_CREATE_TASK", "mcp") as McpTool;
    expect(create.title).toBe("Create task");
    expect((create.inputSchema as any).examples).toHaveLength(1);
    expect((create.outputSchema as any).properties.batch.properties.name).toEqual({ type: "string" });
    expect(create.annotations).toEqual({ readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true });
    expect((registry.toTool("DEMO_LIST_TASKS", "mcp") as McpTool).annotations.readOnlyHint).toBe(true);
    expect((registry.toTool("DEMO_ADD_TASK_TAGS", "mcp") as McpTool).annotations.idempotentHint).toBe(true);
  });

  it("keeps $defs for a recursive definition, and omits an MCP output schema that is not an object", () => {
    const node = { type: "object", properties: { children: { type: "array", items: { $ref: "#/$defs/Node" } } } };
    const tool = toTool(
      { slug: "TREE", name: "Tree", description: "A tree.", input_schema: { type: "object", properties: { root: { $ref: "#/$defs/Node", description: "Root." } }, $defs: { Node: node } }, output_schema: { type: "array" } },
      "mcp",
    );
    expect(tool.outputSchema).toBeUndefined();
    expect((tool.inputSchema as any).properties.root.properties.children.items).toEqual({ $ref: "#/$defs/Node" });
    expect((tool.inputSchema as any).$defs.Node).toEqual(node);
    expect(toolRuleViolations(tool, "mcp")).toEqual([]);
  });

  it("cuts OpenAI descriptions at 1024 characters and keeps them whole elsewhere", () => {
    const source = { slug: "LONG", name: "Long", description: "word ".repeat(400).trim(), input_schema: { type: "object" }, output_schema: true };
    const openai = toTool(source, "openai");
    expect(openai.function.description.length).toBeLessThanOrEqual(1024);
    expect(openai.function.description.endsWith("…")).toBe(true);
    expect(toTool(source, "anthropic").description).toBe(source.description);
    expect(openai.function.parameters).toEqual({ type: "object", properties: {} });
  });

  it("makes a valid, stable, distinct name from a slug too long for vendors", () => {
    const long = `A_${"VERY_LONG_".repeat(10)}`;
    expect(toolName(long)).toMatch(/^[a-zA-Z0-9_-]{1,64}$/);
    expect(toolName(long)).toBe(toolName(long));
    expect(toolName(long)).not.toBe(toolName(`${long}X`));
    expect(toolName("SCALE_AI_CREATE_BATCH")).toBe("SCALE_AI_CREATE_BATCH");
  });
});
