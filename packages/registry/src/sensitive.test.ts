import { describe, expect, it } from "vitest";
import { MASK, maskSensitive, restoreSensitive, sensitivePaths } from "./sensitive";

const schema = {
  type: "object",
  properties: {
    name: { type: "string" },
    token: { type: "string", writeOnly: true },
    people: { type: "array", items: { $ref: "#/$defs/Person" } },
  },
  $defs: { Person: { type: "object", properties: { email: { type: "string", "x-sensitive": true }, role: { type: "string" } } } },
};

describe("redaction from schema annotations", () => {
  it("finds writeOnly and x-sensitive properties, through $refs and array items", () => {
    expect(sensitivePaths(schema)).toEqual([["token"], ["people", "*", "email"]]);
    expect(sensitivePaths({ type: "object", properties: { a: { type: "string" } } })).toEqual([]);
  });

  it("masks a copy, takes the real values out, and puts them back", () => {
    const input = { name: "n", token: "tok_live_1234", people: [{ email: "a@example.com", role: "x" }, { role: "y" }] };
    const { masked, taken } = maskSensitive(input, sensitivePaths(schema));
    expect(masked).toEqual({ name: "n", token: MASK, people: [{ email: MASK, role: "x" }, { role: "y" }] });
    expect(JSON.stringify(masked)).not.toContain("tok_live");
    expect(JSON.stringify(masked)).not.toContain("a@example.com");
    expect(input.token).toBe("tok_live_1234"); // the original is untouched
    expect(taken).toEqual([["/token", "tok_live_1234"], ["/people/0/email", "a@example.com"]]);
    expect(restoreSensitive(masked, taken)).toEqual(input);
  });

  it("leaves a value without sensitive fields as it is", () => {
    const input = { name: "n" };
    expect(maskSensitive(input, sensitivePaths(schema))).toEqual({ masked: input, taken: [] });
  });
});
