// Every string, array and object a client can send is bounded (issue: "every string, array and object in a request
// schema is bounded"): checked over the OpenAPI document, so a new route cannot forget it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, type TestApp } from "../../support/app";

let t: TestApp;
beforeAll(async () => (t = await createTestApp()));
afterAll(() => t.close());

type Schema = Record<string, unknown>;

/** JSON pointers of unbounded values in a schema: strings without a length, arrays without a count, open objects. */
function unbounded(schema: unknown, doc: Schema, path: string, out: string[], seen = new Set<unknown>()): void {
  if (!schema || typeof schema !== "object" || seen.has(schema)) return;
  seen.add(schema);
  const s = schema as Schema;
  if (typeof s["$ref"] === "string") {
    const target = (s["$ref"] as string).replace(/^#\//, "").split("/").reduce<unknown>((node, key) => (node as Schema | undefined)?.[key], doc);
    return unbounded(target, doc, path, out, seen);
  }
  for (const key of ["anyOf", "oneOf", "allOf"]) for (const [i, sub] of ((s[key] as unknown[]) ?? []).entries()) unbounded(sub, doc, `${path}/${key}/${i}`, out, seen);
  const types = Array.isArray(s["type"]) ? (s["type"] as string[]) : [s["type"]];
  const fixed = "enum" in s || "const" in s;
  if (types.includes("string") && !fixed && s["maxLength"] === undefined && !["uuid", "date-time"].includes(s["format"] as string)) out.push(`${path} (string)`);
  if (types.includes("array")) {
    if (s["maxItems"] === undefined) out.push(`${path} (array)`);
    unbounded(s["items"], doc, `${path}/items`, out, seen);
  }
  if (types.includes("object")) {
    const closed = s["additionalProperties"] === false || s["maxProperties"] !== undefined;
    if (!closed) out.push(`${path} (object)`);
    for (const [name, sub] of Object.entries((s["properties"] as Schema) ?? {})) unbounded(sub, doc, `${path}/${name}`, out, seen);
    for (const [pattern, sub] of Object.entries((s["patternProperties"] as Schema) ?? {})) unbounded(sub, doc, `${path}/${pattern}`, out, seen);
    if (s["additionalProperties"] && typeof s["additionalProperties"] === "object") unbounded(s["additionalProperties"], doc, `${path}/*`, out, seen);
  }
}

describe("request schemas", () => {
  it("bound every string, array and object of every route's body, query, path and headers", async () => {
    const doc = (await t.app.inject({ method: "GET", url: "/openapi.json" })).json() as Schema;
    const problems: string[] = [];
    let checked = 0;
    for (const [route, ops] of Object.entries(doc["paths"] as Record<string, Record<string, Schema>>)) {
      for (const [method, op] of Object.entries(ops)) {
        for (const p of (op["parameters"] as Schema[] | undefined) ?? []) {
          checked++;
          unbounded(p["schema"], doc, `${method.toUpperCase()} ${route} ${p["in"]}:${p["name"]}`, problems);
        }
        const body = (op["requestBody"] as Schema | undefined)?.["content"] as Record<string, Schema> | undefined;
        for (const [type, media] of Object.entries(body ?? {})) {
          checked++;
          unbounded(media["schema"], doc, `${method.toUpperCase()} ${route} body(${type})`, problems);
        }
      }
    }
    expect(checked).toBeGreaterThan(20);
    expect(problems).toEqual([]);
  });
});
