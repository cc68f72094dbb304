import { Type } from "typebox";
import { CatalogueEntryFields, Compatibility, JsonSchemaObject, SchemaChange } from "./catalogue";

/**
 * Schemas of the trigger catalogue routes (GET /v1/triggers…). Path slugs are bounded but not patterned: a slug the
 * catalogue does not hold answers 404 TRIGGER_NOT_FOUND, whatever it looks like.
 */

export const TriggerSlug = Type.String({ minLength: 1, maxLength: 128, description: "A trigger slug, e.g. SCALE_AI_TASK_COMPLETED." });
export const TriggerSlugParams = Type.Object({ slug: TriggerSlug }, { additionalProperties: false });

export const TriggerSummary = Type.Object({
  ...CatalogueEntryFields,
  integration: Type.String({ description: "The integration slug; `nagent` for the platform's own triggers." }),
  group: Type.Union([Type.String(), Type.Null()], { description: "What the events are about (tasks, batches, connections…)." }),
}, { title: "TriggerSummary" });

export const TriggerFilter = Type.Object({
  description: Type.String(),
  schema: JsonSchemaObject,
  path: Type.String({ description: "JSON pointer into the event's data." }),
  match: Type.Enum(["equal", "any"], { description: "equal: the value at path equals the filter value. any: both are arrays and share an item." }),
}, { title: "TriggerFilter" });

export const TriggerDetail = Type.Object({
  ...CatalogueEntryFields,
  source: Type.Enum(["callback", "polling", "platform"], { description: "How events arise: upstream callbacks, polling the upstream, or the platform itself." }),
  payload_schema: JsonSchemaObject,
  examples: Type.Array(Type.Object({}, { additionalProperties: true }), { description: "Valid payloads (event data); the first is what a test event sends." }),
  filters: Type.Record(Type.String(), TriggerFilter, { description: "What a subscription may filter on, by filter name: an object of name → value; every filter given must match." }),
  schema_version: Type.Union([Type.Integer(), Type.Null()], { description: "The version of this payload schema (GET /v1/triggers/:slug/versions)." }),
}, { title: "Trigger" });

export const TriggerVersionQuery = Type.Object({
  version: Type.Optional(Type.Integer({ minimum: 1, maximum: 2_147_483_647, description: "A payload schema version (see /versions)." })),
}, { additionalProperties: false });

export const TriggerSchemaVersion = Type.Object({
  version: Type.Integer({ minimum: 1 }),
  content_hash: Type.String({ description: "SHA-256 of the canonical JSON of the payload schema." }),
  compatibility: Type.Union([Compatibility, Type.Null()], { description: "Against the version before, from the subscribers' side; null for version 1." }),
  changes: Type.Array(SchemaChange, { description: "Paths are JSON pointers into {payload}, e.g. /payload/properties/task." }),
  created_at: Type.String({ format: "date-time" }),
}, { title: "TriggerSchemaVersion" });
