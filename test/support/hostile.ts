// Hostile values generated from a route's own JSON schemas (as /openapi.json serves them), for the fuzz test: mostly
// plausible values with one or more broken parts — wrong types, bounds ±1, NUL and lone surrogates, huge numbers,
// deep nesting, unknown properties.
import fc from "fast-check";

type Schema = Record<string, unknown>;

/** A JSON token written as it is (JSON.stringify cannot write 1e309 or a 30-digit integer). */
export class Raw {
  constructor(readonly text: string) {}
}

const NASTY_STRINGS = ["\u0000", "a\u0000b", "\ud800", "x\udc00", "\udfff\ud800", "\u202e", "\ufeff", "💥", "' OR 1=1 --", "__proto__", "../..", "%00", "${x}", "\\", "\"", " ", ""];
const HUGE_NUMBERS = ["1e309", "-1e309", "1e-400", "123456789012345678901234567890", "-0", "9007199254740993", "1E+2"].map((t) => new Raw(t));

export function deepNesting(depth: number, open = "[", close = "]"): Raw {
  return new Raw(open.repeat(depth) + close.repeat(depth));
}

const deep = fc.integer({ min: 65, max: 3_000 }).chain((n) => fc.constantFrom(deepNesting(n), new Raw(`${'{"a":'.repeat(n)}1${"}".repeat(n)}`)));
const nastyString = fc.oneof(fc.constantFrom(...NASTY_STRINGS), fc.tuple(fc.string({ maxLength: 8 }), fc.constantFrom("\u0000", "\ud800", "\udc00")).map(([s, c]) => s + c + s));
const wrongType = fc.oneof(fc.constantFrom<unknown>(null, true, false, 0, -1, 1.5, "", "true", [], {}, [null], { a: 1 }), fc.constantFrom(...HUGE_NUMBERS), nastyString);

export interface HostileContext {
  readonly doc: Schema;
  /** Values to use for a string property of this name (e.g. real slugs, so a request gets past the lookup). */
  readonly known?: Readonly<Record<string, readonly string[]>>;
}

export function resolve(schema: unknown, doc: Schema): Schema {
  let s = (schema ?? {}) as Schema;
  for (let i = 0; i < 20 && typeof s["$ref"] === "string"; i++) {
    s = (s["$ref"] as string).replace(/^#\//, "").split("/").map((k) => k.replaceAll("~1", "/").replaceAll("~0", "~"))
      .reduce<unknown>((node, key) => (node as Schema | undefined)?.[key], doc) as Schema ?? {};
  }
  return s;
}

/** A value for `schema`: three times in four plausible (its parts hostile in turn), else broken at this level. */
export function hostile(schema: unknown, ctx: HostileContext, name = "", depth = 0): fc.Arbitrary<unknown> {
  const s = resolve(schema, ctx.doc);
  if (depth > 6) return fc.oneof(plausibleLeaf(s, ctx, name), broken(s));
  return fc.oneof({ weight: 3, arbitrary: plausible(s, ctx, name, depth) }, { weight: 1, arbitrary: broken(s) });
}

function typesOf(s: Schema): string[] {
  if (Array.isArray(s["type"])) return s["type"] as string[];
  if (typeof s["type"] === "string") return [s["type"]];
  if (s["properties"]) return ["object"];
  return [];
}

function plausible(s: Schema, ctx: HostileContext, name: string, depth: number): fc.Arbitrary<unknown> {
  for (const key of ["anyOf", "oneOf"]) {
    const subs = s[key] as unknown[] | undefined;
    if (subs?.length) return fc.oneof(...subs.map((sub) => hostile(sub, ctx, name, depth + 1)));
  }
  const types = typesOf(s);
  if (types.includes("object")) return objectValue(s, ctx, depth);
  if (types.includes("array")) {
    const min = (s["minItems"] as number | undefined) ?? 0;
    const max = Math.min((s["maxItems"] as number | undefined) ?? 4, min + 3);
    return fc.array(hostile(s["items"], ctx, name, depth + 1), { minLength: min, maxLength: Math.max(min, max) });
  }
  if (types.length === 0 && !("const" in s) && !("enum" in s)) return fc.oneof(fc.jsonValue({ maxDepth: 2 }), nastyString);
  return plausibleLeaf(s, ctx, name);
}

function plausibleLeaf(s: Schema, ctx: HostileContext, name: string): fc.Arbitrary<unknown> {
  if ("const" in s) return fc.constant(s["const"]);
  if (Array.isArray(s["enum"])) return fc.constantFrom(...(s["enum"] as unknown[]));
  const types = typesOf(s);
  if (types.includes("integer") || types.includes("number")) {
    const min = (s["minimum"] as number | undefined) ?? -1_000;
    const max = (s["maximum"] as number | undefined) ?? 1_000;
    // Bounds may be fractional (a rate of 0.01/s): the integers strictly inside them, or the bounds alone.
    const lo = Math.ceil(Math.max(min, -1e9));
    const hi = Math.floor(Math.min(max, 1e9));
    return lo <= hi ? fc.oneof(fc.constantFrom(min, max), fc.integer({ min: lo, max: hi })) : fc.constantFrom(min, max);
  }
  if (types.includes("boolean")) return fc.boolean();
  if (types.includes("null")) return fc.constant(null);
  if (types.includes("string")) return stringValue(s, ctx, name);
  return fc.constant(null);
}

function stringValue(s: Schema, ctx: HostileContext, name: string): fc.Arbitrary<string> {
  const known = ctx.known?.[name];
  if (known?.length) return fc.constantFrom(...known);
  if (s["format"] === "uuid") return fc.uuid();
  if (s["format"] === "date-time") return fc.date({ min: new Date(0), max: new Date(4e12), noInvalidDate: true }).map((d) => d.toISOString());
  const min = (s["minLength"] as number | undefined) ?? 0;
  const max = (s["maxLength"] as number | undefined) ?? 64;
  const atBounds = fc.constantFrom("x".repeat(Math.max(min, 1)), "x".repeat(max));
  if (typeof s["pattern"] === "string") {
    try {
      return fc.oneof(fc.stringMatching(new RegExp(s["pattern"] as string)).map((v) => v.slice(0, max)), atBounds);
    } catch {
      // A pattern fast-check cannot generate from: lengths at the bounds still exercise it.
    }
  }
  return fc.oneof(fc.string({ minLength: min, maxLength: Math.min(max, 32) }), atBounds);
}

function objectValue(s: Schema, ctx: HostileContext, depth: number): fc.Arbitrary<unknown> {
  const props = (s["properties"] as Record<string, unknown> | undefined) ?? {};
  const required = new Set((s["required"] as string[] | undefined) ?? []);
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  for (const [key, sub] of Object.entries(props)) model[key] = hostile(sub, ctx, key, depth + 1);
  const base = fc.record(model, { requiredKeys: Object.keys(props).filter((k) => required.has(k)) });
  if (Object.keys(props).length > 0 || s["additionalProperties"] === false) return base;
  // A free-form object (an action's input on the generic routes, metadata): a few arbitrary entries.
  return fc.dictionary(fc.string({ maxLength: 12 }), fc.oneof(fc.jsonValue({ maxDepth: 2 }), nastyString), { maxKeys: 4 });
}

/** A value that breaks `s` itself: a bound crossed by one, a wrong type, a hostile string, a huge number, nesting. */
function broken(s: Schema): fc.Arbitrary<unknown> {
  const out: fc.Arbitrary<unknown>[] = [wrongType, deep];
  const types = typesOf(s);
  if (types.includes("string")) {
    const max = s["maxLength"] as number | undefined;
    const min = s["minLength"] as number | undefined;
    if (max !== undefined) out.push(fc.constant("y".repeat(max + 1)));
    if (min !== undefined && min > 0) out.push(fc.constant("y".repeat(min - 1)));
    out.push(nastyString);
  }
  if (types.includes("integer") || types.includes("number")) {
    if (typeof s["maximum"] === "number") out.push(fc.constant((s["maximum"] as number) + 1));
    if (typeof s["minimum"] === "number") out.push(fc.constant((s["minimum"] as number) - 1));
    out.push(fc.constantFrom(...HUGE_NUMBERS));
  }
  if (types.includes("array") && typeof s["maxItems"] === "number") out.push(fc.constant(Array.from({ length: (s["maxItems"] as number) + 1 }, () => null)));
  if (types.includes("object")) {
    const maxProps = (s["maxProperties"] as number | undefined) ?? 8;
    out.push(fc.constant(Object.fromEntries(Array.from({ length: maxProps + 1 }, (_, i) => [`k${i}`, i]))));
    out.push(fc.tuple(nastyString, fc.jsonValue({ maxDepth: 1 })).map(([k, v]) => ({ [k]: v, unknown_property: v })));
  }
  return fc.oneof(...out);
}

/** JSON text for a generated value, writing Raw tokens as they are. */
export function toJson(value: unknown): string {
  if (value instanceof Raw) return value.text;
  if (Array.isArray(value)) return `[${value.map(toJson).join(",")}]`;
  if (value !== null && typeof value === "object") return `{${Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}:${toJson(v)}`).join(",")}}`;
  return JSON.stringify(value) ?? "null";
}

/** Percent-encodes a value for a URL, writing a lone surrogate as the invalid UTF-8 bytes of one (CESU-8). */
export function encodeComponent(value: unknown): string {
  const text = value instanceof Raw ? value.text : typeof value === "string" ? value : toJson(value);
  let out = "";
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    out += code >= 0xd800 && code <= 0xdfff ? `%ED%${(0xa0 | ((code >> 6) & 0x1f)).toString(16).toUpperCase()}%${(0x80 | (code & 0x3f)).toString(16).toUpperCase()}` : encodeURIComponent(ch);
  }
  return out;
}
