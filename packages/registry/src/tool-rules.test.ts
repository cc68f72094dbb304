import { describe, expect, it } from "vitest";
import { toolRuleViolations } from "./tool-rules";

const params = { type: "object", properties: { a: { type: "string", maxLength: 5, description: "A." } }, required: ["a"], additionalProperties: false };
const openai = (fn: Record<string, unknown>) => ({ type: "function", function: { name: "DO_IT", description: "Does it.", parameters: params, strict: false, ...fn } });
const anthropic = (extra: Record<string, unknown>) => ({ name: "DO_IT", description: "Does it.", input_schema: params, ...extra });
const mcp = (extra: Record<string, unknown>) => ({ name: "DO_IT", title: "Do it", description: "Does it.", inputSchema: params, ...extra });

describe("toolRuleViolations", () => {
  it("accepts well-formed tools of each format", () => {
    expect(toolRuleViolations(openai({}), "openai")).toEqual([]);
    expect(toolRuleViolations(anthropic({}), "anthropic")).toEqual([]);
    expect(toolRuleViolations(mcp({ outputSchema: { type: "object", properties: {} }, annotations: { readOnlyHint: true } }), "mcp")).toEqual([]);
  });

  it("rejects names vendors refuse", () => {
    for (const name of ["", "has space", "dots.not.ok", "x".repeat(65), "émoji"]) {
      expect(toolRuleViolations(anthropic({ name }), "anthropic"), name).toEqual([expect.stringMatching(/^name .* must match/)]);
      expect(toolRuleViolations(openai({ name }), "openai"), name).toEqual([expect.stringMatching(/^name .* must match/)]);
    }
    expect(toolRuleViolations(anthropic({ name: "x".repeat(64) }), "anthropic")).toEqual([]);
  });

  it("rejects an OpenAI description over 1024 characters, and empty descriptions everywhere", () => {
    expect(toolRuleViolations(openai({ description: "x".repeat(1025) }), "openai")).toEqual(["description is longer than 1024 characters"]);
    expect(toolRuleViolations(anthropic({ description: "x".repeat(5000) }), "anthropic")).toEqual([]);
    expect(toolRuleViolations(mcp({ description: " " }), "mcp")).toEqual(["description must be a non-empty string"]);
  });

  it("requires an object schema without a combinator at the top", () => {
    expect(toolRuleViolations(anthropic({ input_schema: { type: "array" } }), "anthropic")).toEqual(['input_schema must have type "object" at the top level']);
    expect(toolRuleViolations(anthropic({ input_schema: { ...params, anyOf: [{ required: ["a"] }] } }), "anthropic")).toEqual(["input_schema must not have anyOf at the top level"]);
    expect(toolRuleViolations(openai({ parameters: { ...params, enum: [{}] } }), "openai")).toEqual(["function.parameters must not have enum at the top level"]);
    expect(toolRuleViolations(mcp({ outputSchema: { type: "string" } }), "mcp")).toEqual(['outputSchema must have type "object" at the top level']);
  });

  it("rejects keywords outside each vendor's dialect, anywhere in the schema", () => {
    const withKeywords = { ...params, properties: { a: { type: "string", "x-secret": true, examples: ["e"], $schema: "x" }, examples: { type: "string" } } };
    expect(toolRuleViolations(anthropic({ input_schema: withKeywords }), "anthropic")).toEqual([
      'input_schema/properties/a: keyword "x-secret" is not accepted',
      'input_schema/properties/a: keyword "examples" is not accepted',
      'input_schema/properties/a: keyword "$schema" is not accepted',
    ]);
    // A *property* named like a keyword is fine; MCP takes `examples` as a keyword.
    expect(toolRuleViolations(mcp({ inputSchema: { ...params, properties: { examples: { type: "string", examples: ["e"] } } } }), "mcp")).toEqual([]);
    expect(toolRuleViolations(openai({ parameters: { ...params, properties: { m: { type: "object", maxProperties: 3 } } } }), "openai")).toEqual([
      'function.parameters/properties/m: keyword "maxProperties" is not accepted',
    ]);
  });

  it("checks OpenAI's formats, nesting and dangling refs", () => {
    expect(toolRuleViolations(openai({ parameters: { ...params, properties: { u: { type: "string", format: "uri" } } } }), "openai")).toEqual([
      'function.parameters/properties/u: format "uri" is not supported',
    ]);
    let deep: Record<string, unknown> = { type: "string" };
    for (let i = 0; i < 11; i++) deep = { type: "object", properties: { n: deep } };
    expect(toolRuleViolations(openai({ parameters: deep }), "openai").some((p) => /nested deeper than 10/.test(p))).toBe(true);
    expect(toolRuleViolations(anthropic({ input_schema: { ...params, properties: { r: { $ref: "#/$defs/Missing" } } } }), "anthropic")).toEqual([
      "input_schema/properties/r: $ref #/$defs/Missing does not resolve",
    ]);
  });

  it("rejects unexpected fields and malformed MCP annotations", () => {
    expect(toolRuleViolations(anthropic({ parameters: {} }), "anthropic")).toEqual(['unexpected field "parameters"']);
    expect(toolRuleViolations(openai({ extra: 1 }), "openai")).toEqual(['unexpected field "function.extra"']);
    expect(toolRuleViolations(mcp({ annotations: { readOnlyHint: "yes", mood: true } }), "mcp")).toEqual(["annotation readOnlyHint has the wrong type", 'unknown annotation "mood"']);
  });
});
