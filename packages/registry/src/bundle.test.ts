import { describe, expect, it } from "vitest";
import { bundleSchema, inlineRefs, reachableDefs } from "./bundle";
import { canonicalJson, contentHash } from "./canonical-json";
import { getAtPointer, parsePointer, toPointer } from "./json-pointer";

const defs = {
  Task: { type: "object", properties: { batch: { $ref: "#/$defs/Batch" }, note: { $ref: "#/$defs/Task/properties/batch" } } },
  Batch: { type: "object", properties: { name: { type: "string" } } },
  Unused: { type: "string" },
  Node: { type: "object", properties: { next: { $ref: "#/$defs/Node" } } },
};

describe("bundleSchema", () => {
  it("carries only the $defs a schema reaches, through other defs and nested pointers", () => {
    expect(reachableDefs({ $ref: "#/$defs/Task" }, defs)).toEqual(["Batch", "Task"]);
    expect(bundleSchema({ $ref: "#/$defs/Task" }, defs)).toEqual({ $ref: "#/$defs/Task", $defs: { Batch: defs.Batch, Task: defs.Task } });
    expect(bundleSchema({ type: "string" }, defs)).toEqual({ type: "string" });
    expect(reachableDefs({ $ref: "#/$defs/Node" }, defs)).toEqual(["Node"]);
  });

  it("copies, so the manifest cannot be changed through a bundle", () => {
    const bundled = bundleSchema({ $ref: "#/$defs/Batch" }, defs) as { $defs: { Batch: { type: string } } };
    bundled.$defs.Batch.type = "array";
    expect(defs.Batch.type).toBe("object");
  });
});

describe("inlineRefs", () => {
  it("replaces refs by their targets, keeping sibling keywords", () => {
    const bundled = bundleSchema({ type: "object", properties: { t: { $ref: "#/$defs/Task", description: "The task." } } }, defs);
    expect(inlineRefs(bundled)).toEqual({
      type: "object",
      properties: {
        t: {
          type: "object",
          description: "The task.",
          properties: { batch: defs.Batch, note: defs.Batch },
        },
      },
    });
  });

  it("keeps $defs for what refers to itself", () => {
    const bundled = bundleSchema({ $ref: "#/$defs/Node" }, defs);
    expect(inlineRefs(bundled)).toEqual({ type: "object", properties: { next: { $ref: "#/$defs/Node" } }, $defs: { Node: defs.Node } });
  });
});

describe("canonical JSON and content hash", () => {
  it("ignores key order and whitespace, not values", () => {
    expect(canonicalJson({ b: [1, { d: 1, c: 2 }], a: "x" })).toBe('{"a":"x","b":[1,{"c":2,"d":1}]}');
    expect(contentHash({ a: 1, b: 2 })).toBe(contentHash({ b: 2, a: 1 }));
    expect(contentHash({ a: 1 })).not.toBe(contentHash({ a: 2 }));
    expect(contentHash({ a: 1 })).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe("JSON pointers", () => {
  it("escape ~ and / and read values back", () => {
    expect(toPointer(["a/b", "c~d", 0])).toBe("/a~1b/c~0d/0");
    expect(parsePointer("/a~1b/c~0d/0")).toEqual(["a/b", "c~d", "0"]);
    expect(getAtPointer({ "a/b": { "c~d": ["x"] } }, "/a~1b/c~0d/0")).toBe("x");
    expect(getAtPointer({ a: [1] }, "/a/01")).toBeUndefined();
    expect(getAtPointer({ a: 1 }, "")).toEqual({ a: 1 });
  });
});
