import { describe, expect, it } from "vitest";
import { classifyActionChange, classifySchemaChange, classifyTriggerChange, combine, type Compatibility } from "./compatibility";
import type { JsonSchema } from "./types";

const str = { type: "string", maxLength: 100 };
const closed = (properties: Record<string, JsonSchema>, required: string[] = []): JsonSchema => ({ type: "object", additionalProperties: false, required, properties });
const open = (properties: Record<string, JsonSchema>, required: string[] = []): JsonSchema => ({ type: "object", required, properties });

/**
 * [name, old, new, as input, as output]. As an input, a wider schema keeps old callers working (backward); as an
 * output, a narrower one does (backward): the two columns mirror each other except for `full` and `breaking`.
 */
const table: [string, JsonSchema, JsonSchema, Compatibility, Compatibility][] = [
  ["identical", closed({ a: str }, ["a"]), closed({ a: str }, ["a"]), "full", "full"],
  ["description changed only", closed({ a: { ...str, description: "x" } }), closed({ a: { ...str, description: "y" } }), "full", "full"],
  ["key order only", { type: "string", maxLength: 5 }, { maxLength: 5, type: "string" }, "full", "full"],
  ["optional property added (closed object)", closed({ a: str }), closed({ a: str, b: str }), "backward", "forward"],
  ["required property added (closed object)", closed({ a: str }), closed({ a: str, b: str }, ["b"]), "breaking", "breaking"],
  ["existing property made required", closed({ a: str, b: str }), closed({ a: str, b: str }, ["b"]), "forward", "backward"],
  ["property no longer required", closed({ a: str }, ["a"]), closed({ a: str }), "backward", "forward"],
  ["property removed (closed object)", closed({ a: str, b: str }), closed({ a: str }), "forward", "backward"],
  ["declared property removed (open object)", open({ a: str, b: str }), open({ a: str }), "backward", "forward"],
  ["typed property added (open object)", open({ a: str }), open({ a: str, b: str }), "forward", "backward"],
  ["type narrowed number → integer", closed({ n: { type: "number" } }), closed({ n: { type: "integer" } }), "forward", "backward"],
  ["type widened integer → number", closed({ n: { type: "integer" } }), closed({ n: { type: "number" } }), "backward", "forward"],
  ["type widened to nullable", closed({ s: str }), closed({ s: { type: ["string", "null"], maxLength: 100 } }), "backward", "forward"],
  ["type changed string → integer", closed({ n: { type: "string" } }), closed({ n: { type: "integer" } }), "breaking", "breaking"],
  ["enum value removed", { type: "string", enum: ["a", "b"] }, { type: "string", enum: ["a"] }, "forward", "backward"],
  ["enum value added", { type: "string", enum: ["a"] }, { type: "string", enum: ["a", "b"] }, "backward", "forward"],
  ["enum value swapped", { type: "string", enum: ["a", "b"] }, { type: "string", enum: ["a", "c"] }, "breaking", "breaking"],
  ["enum introduced", { type: "string" }, { type: "string", enum: ["a"] }, "forward", "backward"],
  ["maxLength tightened", { type: "string", maxLength: 100 }, { type: "string", maxLength: 50 }, "forward", "backward"],
  ["maxLength loosened", { type: "string", maxLength: 50 }, { type: "string", maxLength: 100 }, "backward", "forward"],
  ["minimum raised", { type: "integer", minimum: 0 }, { type: "integer", minimum: 1 }, "forward", "backward"],
  ["maximum added", { type: "integer" }, { type: "integer", maximum: 9 }, "forward", "backward"],
  ["maxItems removed", { type: "array", maxItems: 5 }, { type: "array" }, "backward", "forward"],
  ["x-max-json-bytes tightened", { type: "object", "x-max-json-bytes": 100 }, { type: "object", "x-max-json-bytes": 10 }, "forward", "backward"],
  ["format added", { type: "string" }, { type: "string", format: "email" }, "forward", "backward"],
  ["pattern changed", { type: "string", pattern: "^a" }, { type: "string", pattern: "^b" }, "breaking", "breaking"],
  ["additional properties closed", open({ a: str }), closed({ a: str }), "forward", "backward"],
  ["additional properties opened", closed({ a: str }), { type: "object", additionalProperties: true, required: [], properties: { a: str } }, "backward", "forward"],
  ["nested property type narrowed", closed({ o: closed({ n: { type: "number" } }) }), closed({ o: closed({ n: { type: "integer" } }) }), "forward", "backward"],
  ["array item enum widened", { type: "array", items: { enum: ["a"] } }, { type: "array", items: { enum: ["a", "b"] } }, "backward", "forward"],
  ["anyOf alternative added", { anyOf: [{ type: "string" }] }, { anyOf: [{ type: "string" }, { type: "integer" }] }, "backward", "forward"],
  ["not changed (unknown effect)", { not: { type: "string" } }, { not: { type: "integer" } }, "breaking", "breaking"],
  ["unknown keyword changed", { type: "object", patternProperties: { "^a": str } }, { type: "object", patternProperties: { "^b": str } }, "breaking", "breaking"],
  ["widened and narrowed at once", closed({ a: str, b: { type: "integer" } }), closed({ a: { type: "string", maxLength: 200 }, b: { type: "integer", maximum: 3 } }), "breaking", "breaking"],
];

describe("classifySchemaChange", () => {
  it.each(table)("%s", (_name, oldSchema, newSchema, asInput, asOutput) => {
    expect(classifySchemaChange(oldSchema, newSchema, "input").compatibility).toBe(asInput);
    expect(classifySchemaChange(oldSchema, newSchema, "output").compatibility).toBe(asOutput);
  });

  it("follows $refs into $defs on both sides", () => {
    const before = { $ref: "#/$defs/T", $defs: { T: closed({ s: { type: "string", enum: ["a", "b"] } }) } };
    const after = { $ref: "#/$defs/T", $defs: { T: closed({ s: { type: "string", enum: ["a"] } }) } };
    const result = classifySchemaChange(before, after, "input", "/input");
    expect(result.compatibility).toBe("forward");
    expect(result.changes).toEqual([{ path: "/input/properties/s", kind: "enum_value_removed", message: 'value "b" removed', direction: "narrowed", compatibility: "forward" }]);
  });

  it("ends on recursive definitions", () => {
    const node = (extra: Record<string, JsonSchema>): JsonSchema => ({
      $ref: "#/$defs/Node",
      $defs: { Node: { type: "object", properties: { children: { type: "array", items: { $ref: "#/$defs/Node" } }, ...extra } } },
    });
    expect(classifySchemaChange(node({}), node({}), "output").compatibility).toBe("full");
    expect(classifySchemaChange(node({}), node({ label: { type: "string" } }), "output").compatibility).toBe("backward");
  });

  it("lists each change with its place and its own effect", () => {
    const { changes } = classifySchemaChange(closed({ a: str }), closed({ a: str, b: str }, ["b"]), "input", "/input");
    expect(changes).toEqual([
      { path: "/input/properties/b", kind: "property_added", message: 'property "b" added', direction: "widened", compatibility: "backward" },
      { path: "/input/properties/b", kind: "required_added", message: 'property "b" is now required', direction: "narrowed", compatibility: "forward" },
    ]);
  });
});

describe("classifyActionChange", () => {
  const input = closed({ a: str }, ["a"]);
  const output = open({ id: { type: "string" } }, ["id"]);

  it("is backward when callers of the old version keep working (wider input, narrower output)", () => {
    const next = { input: closed({ a: str, b: str }, ["a"]), output: open({ id: { type: "string" }, at: { type: "string" } }, ["id"]) };
    expect(classifyActionChange({ input, output }, next).compatibility).toBe("backward");
  });

  it("is forward when only a rollback is safe (narrower input)", () => {
    expect(classifyActionChange({ input, output }, { input: closed({ a: { type: "string", maxLength: 10 } }, ["a"]), output }).compatibility).toBe("forward");
  });

  it("is breaking when an output field may disappear while the input grows", () => {
    const next = { input: closed({ a: str, b: str }, ["a"]), output: open({ id: { type: "string" } }) };
    expect(classifyActionChange({ input, output }, next).compatibility).toBe("breaking");
  });

  it("prefixes each change with the schema it is in", () => {
    const result = classifyActionChange({ input, output }, { input, output: open({ id: { type: "integer" } }, ["id"]) });
    expect(result).toMatchObject({ compatibility: "breaking", changes: [{ path: "/output/properties/id", kind: "type_changed" }] });
  });
});

describe("combine", () => {
  it("keeps the weakest guarantee", () => {
    expect(combine([])).toBe("full");
    expect(combine(["full", "backward"])).toBe("backward");
    expect(combine(["forward", "full"])).toBe("forward");
    expect(combine(["backward", "forward"])).toBe("breaking");
    expect(combine(["breaking", "full"])).toBe("breaking");
  });
});

describe("classifyTriggerChange: from the subscribers' (readers') side", () => {
  const task = { type: "object", properties: { id: str } };
  const payload = (properties: Record<string, JsonSchema>, required: string[] = []): JsonSchema => ({ type: "object", additionalProperties: true, required, properties });
  it.each([
    ["a new required field", payload({ task }, ["task"]), payload({ task, at: str }, ["task", "at"]), "backward"],
    ["a new optional field", payload({ task }, ["task"]), payload({ task, at: str }, ["task"]), "backward"],
    ["a field removed", payload({ task, at: str }, ["task"]), payload({ task }, ["task"]), "forward"],
    ["a required field removed", payload({ task, at: str }, ["task", "at"]), payload({ task }, ["task"]), "forward"],
    ["a field's type changed", payload({ task, at: str }), payload({ task, at: { type: "integer" } }), "breaking"],
    ["a description changed", payload({ task }), payload({ task: { ...task, description: "The task." } }), "full"],
  ] as [string, JsonSchema, JsonSchema, Compatibility][])("%s", (_name, before, after, expected) => {
    const result = classifyTriggerChange(before, after);
    expect(result.compatibility).toBe(expected);
    for (const change of result.changes) expect(change.path.startsWith("/payload")).toBe(true);
  });
});
