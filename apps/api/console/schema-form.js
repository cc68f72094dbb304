import { h } from "./dom.js";

const typeOf = (schema) => {
  if (!schema || typeof schema !== "object") return "any";
  if (schema.enum) return `one of ${schema.enum.map((v) => JSON.stringify(v)).join(", ")}`;
  const type = Array.isArray(schema.type) ? schema.type.join(" | ") : schema.type ?? (schema.anyOf || schema.oneOf ? "one of several shapes" : "any");
  return type === "array" ? `array of ${typeOf(schema.items)}` : type;
};

function limits(schema) {
  const out = [];
  for (const [key, label] of [["minLength", "min length"], ["maxLength", "max length"], ["minimum", "≥"], ["maximum", "≤"], ["minItems", "min items"], ["maxItems", "max items"], ["pattern", "pattern"], ["format", "format"], ["default", "default"]]) {
    if (schema?.[key] !== undefined) out.push(`${label} ${typeof schema[key] === "string" ? schema[key] : JSON.stringify(schema[key])}`);
  }
  return out.join(", ");
}

/**
 * A JSON Schema as a readable form: one disabled field per property (name, type, required, limits, description),
 * nested objects as fieldsets. It documents the shape; it is not for input.
 */
export function schemaForm(schema, idPrefix, depth = 0) {
  const props = schema?.properties;
  if (!props || depth > 4) return h("p.small", {}, `Type: ${typeOf(schema)}`, schema?.description ? ` — ${schema.description}` : "");
  const required = new Set(schema.required ?? []);
  return h("div.schema", {}, Object.entries(props).map(([name, sub]) => {
    const id = `${idPrefix}-${name}`.replace(/[^A-Za-z0-9_-]/g, "_");
    const help = [typeOf(sub), required.has(name) ? "required" : "optional", limits(sub)].filter(Boolean).join(" · ");
    if (sub?.properties && depth < 4) {
      return h("fieldset", {}, h("legend", {}, name, required.has(name) ? " *" : ""), h("p.small", { text: [help, sub.description].filter(Boolean).join(" — ") }), schemaForm(sub, id, depth + 1));
    }
    return h("div.field.wide", {},
      h("label", { for: id }, h("span.mono", { text: name }), required.has(name) ? " *" : ""),
      h("input", { id, disabled: true, value: sub?.default !== undefined ? JSON.stringify(sub.default) : "", placeholder: typeOf(sub), "aria-describedby": `${id}-help` }),
      h("p.small", { id: `${id}-help`, text: [help, sub?.description].filter(Boolean).join(" — ") }));
  }));
}
