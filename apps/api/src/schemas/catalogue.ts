import { Type } from "typebox";
import { DEFAULT_PAGE_SIZE, MAX_FLOW_STEPS, MAX_PAGE_SIZE, type JsonSchema } from "@nagent/registry";

/**
 * Schemas of the catalogue routes (integrations, actions, flows). Path slugs are bounded but not patterned: a slug
 * the catalogue does not hold answers 404 NOT_FOUND, whatever it looks like.
 */

export const IntegrationSlug = Type.String({ minLength: 1, maxLength: 64, description: "An integration slug, e.g. scale_ai." });
export const ActionSlug = Type.String({ minLength: 1, maxLength: 128, description: "An action slug, e.g. SCALE_AI_CREATE_BATCH." });
export const ActionSlugParams = Type.Object({ slug: ActionSlug }, { additionalProperties: false });

/**
 * A JSON Schema passed through as it is. Declared free-form so that response serialization keeps every keyword
 * (`$defs`, `examples`, `x-*`…); a typed declaration would strip what it does not name.
 */
export const JsonSchemaObject = Type.Unsafe<JsonSchema>(Type.Object({}, { additionalProperties: true, description: "A JSON Schema (draft 2020-12), as the registry holds it." }));
/** An output schema may also be `true` (anything) or `false`. */
export const AnySchema = Type.Unsafe<JsonSchema>(Type.Union([JsonSchemaObject, Type.Boolean()], { description: "A JSON Schema (draft 2020-12): an object, or true/false." }));

export const AuthSummary = Type.Object({
  type: Type.Literal("api_key"),
  scheme: Type.Union([Type.Literal("basic"), Type.Literal("bearer"), Type.Literal("header")], { description: "How the credentials travel to the upstream." }),
  fields: Type.Array(Type.Object({
    name: Type.String(),
    description: Type.Union([Type.String(), Type.Null()]),
    secret: Type.Boolean({ description: "Stored only encrypted and never returned." }),
    required: Type.Boolean(),
  }), { description: "The credential fields a connection gives (POST /v1/connections `credentials`)." }),
}, { title: "AuthSummary" });

export const IntegrationSummary = Type.Object({
  slug: Type.String(),
  name: Type.String(),
  description: Type.String(),
  version: Type.String({ description: "The manifest's semantic version." }),
  categories: Type.Array(Type.String()),
  auth: AuthSummary,
  actions_count: Type.Integer(),
}, { title: "IntegrationSummary" });

/** The fields every catalogue entry (an action, a trigger) starts with; lists name what `group` means for theirs. */
export const CatalogueEntryFields = {
  slug: Type.String(),
  integration: Type.String(),
  name: Type.String(),
  description: Type.String(),
  group: Type.Union([Type.String(), Type.Null()]),
};

export const ActionSummary = Type.Object({
  ...CatalogueEntryFields,
  group: Type.Union([Type.String(), Type.Null()], { description: "The resource the action works on (batches, tasks…)." }),
}, { title: "ActionSummary" });

export const ActionDetail = Type.Object({
  ...CatalogueEntryFields,
  input_schema: JsonSchemaObject,
  output_schema: AnySchema,
  schema_version: Type.Union([Type.Integer(), Type.Null()], { description: "The version these schemas are (GET /v1/actions/:slug/versions)." }),
}, { title: "Action" });

export const ActionVersionQuery = Type.Object({
  version: Type.Optional(Type.Integer({ minimum: 1, maximum: 2_147_483_647, description: "A schema version (see /versions)." })),
}, { additionalProperties: false });

export const Compatibility = Type.Enum(["full", "backward", "forward", "breaking"], {
  description: "Against the version before, from the callers' side: backward = old inputs still accepted and new outputs still valid under the old schema; forward = the reverse; full = both; breaking = neither.",
});

export const SchemaChange = Type.Object({
  path: Type.String({ description: "JSON pointer into {input, output}, e.g. /input/properties/name." }),
  kind: Type.String(),
  message: Type.String(),
  direction: Type.Enum(["widened", "narrowed", "changed", "none"]),
  compatibility: Compatibility,
});

export const SchemaVersion = Type.Object({
  version: Type.Integer({ minimum: 1 }),
  content_hash: Type.String({ description: "SHA-256 of the canonical JSON of the input and output schemas." }),
  compatibility: Type.Union([Compatibility, Type.Null()], { description: "null for version 1." }),
  changes: Type.Array(SchemaChange),
  created_at: Type.String({ format: "date-time" }),
}, { title: "SchemaVersion" });

/** The query of a catalogue listing (GET /v1/actions, GET /v1/triggers). */
export const ListCatalogueQuery = Type.Object({
  integration: Type.Optional(IntegrationSlug),
  q: Type.Optional(Type.String({ maxLength: 200, description: "Words that must all occur (case-insensitive) in the slug, name or description." })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE, description: "Page size." })),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 512, description: "The `next_cursor` of the previous page." })),
}, { additionalProperties: false });

/**
 * An action input as a caller sends it: an object, bounded here (200 properties, names of 128 characters, the body
 * limit for the rest); its content is the registry's to judge.
 */
const boundedInput = (description: string) =>
  Type.Unsafe<Record<string, unknown>>({ type: "object", propertyNames: { maxLength: 128 }, maxProperties: 200, description });

export const ActionInput = boundedInput("An input for the action; see its input_schema.");

export const ValidationIssue = Type.Object({
  path: Type.String({ description: "JSON pointer into the input; for required and additionalProperties, the missing or unexpected property." }),
  keyword: Type.String({ description: "The JSON Schema keyword that failed." }),
  message: Type.String(),
});

export const ValidationResult = Type.Object({
  valid: Type.Boolean(),
  errors: Type.Optional(Type.Array(ValidationIssue, { description: "Every problem (only when valid is false)." })),
}, { title: "ValidationResult" });

export const ToolFormatQuery = Type.Object({
  format: Type.Union([Type.Literal("openai"), Type.Literal("anthropic"), Type.Literal("mcp")], { description: "The vendor whose tool format to answer in." }),
}, { additionalProperties: false });

export const ToolDefinition = Type.Object({}, {
  additionalProperties: true,
  title: "ToolDefinition",
  description: [
    "openai: `{type: \"function\", function: {name, description, parameters, strict: false}}` (Chat Completions);",
    "anthropic: `{name, description, input_schema}`;",
    "mcp: `{name, title, description, inputSchema, outputSchema?, annotations}`.",
    "Schemas keep only the keywords the vendor accepts, with `$ref`s inlined; the server still validates every input against the full schema.",
  ].join(" "),
});

const StepId = Type.String({ minLength: 1, maxLength: 64, description: "Unique in the flow: letters, digits, _ and -, starting with a letter or _." });

export const FlowStep = Type.Object({
  id: StepId,
  action: ActionSlug,
  input: boundedInput("The step's input. Any value may be a reference `{\"$ref\": \"steps.<id>.data.<path>\"}` to the output data of an earlier step (or the event data of a trigger step)."),
}, { additionalProperties: false, title: "FlowActionStep" });

export const FlowTriggerStep = Type.Object({
  id: StepId,
  trigger: Type.String({ minLength: 1, maxLength: 128, description: "A trigger slug, e.g. SCALE_AI_TASK_COMPLETED: the flow starts with its event, whose data later steps may reference." }),
}, { additionalProperties: false, title: "FlowTriggerStep" });

export const FlowCheckBody = Type.Object({
  steps: Type.Array(Type.Union([FlowStep, FlowTriggerStep]), { minItems: 1, maxItems: MAX_FLOW_STEPS, description: "Run in order. Only the first step may be a trigger step." }),
}, { additionalProperties: false });

export const FlowIssue = Type.Object({
  step: Type.String({ description: "The step's id (#<index> when it has none; empty for the flow as a whole)." }),
  path: Type.String({ description: "JSON pointer into the step's input." }),
  message: Type.String(),
});

export const FlowCheckResult = Type.Object({
  valid: Type.Boolean(),
  errors: Type.Array(FlowIssue, { description: "Every problem; the flow is valid when there is none." }),
  warnings: Type.Array(FlowIssue, { description: "What may fail at run time without being certain to: a referenced value that may be absent or null." }),
}, { title: "FlowCheckResult" });
