import { badRequest, invalidParam } from "./errors";
import { compileCheck, type Check, type JsonSchema } from "./validate";

/** The task types behind the 40 actions, by their path segment in `POST /v1/task/:type`. */
export const TASK_TYPES = [
  "imageannotation",
  "segmentannotation",
  "lidarannotation",
  "lidarsegmentation",
  "namedentityrecognition",
  "documenttranscription",
  "textcollection",
  "videoannotation",
  "videoplaybackannotation",
] as const;

export type TaskType = (typeof TASK_TYPES)[number];

export function isTaskType(value: string): value is TaskType {
  return (TASK_TYPES as readonly string[]).includes(value);
}

/** Fields that stay at the top level of a task object; every other body key is echoed under `params`. */
export const TOP_LEVEL_FIELDS = new Set([
  "project",
  "batch",
  "instruction",
  "callback_url",
  "metadata",
  "priority",
  "unique_id",
  "clear_unique_id_on_error",
  "tags",
  "project_version",
]);

const str = (maxLength = 4096): JsonSchema => ({ type: "string", maxLength });
const bool: JsonSchema = { type: "boolean" };
const num: JsonSchema = { type: "number" };
const int: JsonSchema = { type: "integer" };
const obj: JsonSchema = { type: "object" };
const urls = (maxItems: number): JsonSchema => ({ type: "array", minItems: 1, maxItems, items: str() });
const labels = (maxItems: number): JsonSchema => ({ type: "array", minItems: 1, maxItems, items: { type: ["string", "object"] } });
const contextAttachments: JsonSchema = {
  type: "array",
  maxItems: 50,
  items: { type: "object", required: ["attachment"], properties: { attachment: str() } },
};

const geometry: JsonSchema = {
  type: "object",
  required: ["objects_to_annotate"],
  properties: {
    objects_to_annotate: { type: "array", minItems: 1, maxItems: 500, items: { type: ["string", "object"] } },
    min_height: num,
    min_width: num,
    min_vertices: int,
    max_vertices: int,
    can_rotate: bool,
    integer_pixels: bool,
  },
};
const geometries: JsonSchema = {
  type: "object",
  minProperties: 1,
  properties: { box: geometry, polygon: geometry, line: geometry, point: geometry, cuboid: geometry, ellipse: geometry },
  additionalProperties: false,
};

/** Fields every task type takes (reference §6, "Common task-creation fields"). */
const COMMON: Record<string, JsonSchema> = {
  project: str(256),
  batch: str(256),
  instruction: str(100_000),
  callback_url: str(2048),
  metadata: obj,
  priority: int,
  unique_id: { type: "string", minLength: 1, maxLength: 1024 },
  clear_unique_id_on_error: bool,
  tags: { type: "array", maxItems: 5, items: { type: "string", minLength: 1, maxLength: 256 } },
  project_version: int,
};

const ANNOTATION_EDITING: Record<string, JsonSchema> = {
  base_annotations: obj,
  hypothesis: obj,
  annotation_attributes: obj,
  can_add_base_annotations: bool,
  can_edit_base_annotations: bool,
  can_delete_base_annotations: bool,
  can_edit_base_annotation_labels: bool,
};

interface TaskTypeSpec {
  readonly required: readonly string[];
  readonly properties: Record<string, JsonSchema>;
  /** Defaults Scale fills into `params` when the body leaves them out. */
  readonly defaults: Record<string, unknown>;
  /** Rules across fields that a schema would state less clearly than code. */
  readonly rule?: (body: Record<string, unknown>) => void;
}

const eitherAttachment = (body: Record<string, unknown>): void => {
  if (body["attachment"] === undefined && body["attachments"] === undefined) {
    throw badRequest("Please include an attachment or attachments parameter.");
  }
};

/**
 * The fields of the two video types, each type's own ones slotted in where Scale lists them (the order is the order
 * fields are checked in, so it decides which problem a body with several is answered with).
 */
const videoProperties = (afterFrameRate: Record<string, JsonSchema>, afterPadding: Record<string, JsonSchema>): Record<string, JsonSchema> => ({
  attachment: str(),
  attachments: urls(100_000),
  attachment_type: { enum: ["image", "video"] },
  geometries,
  frame_rate: { type: "number", exclusiveMinimum: 0 },
  ...afterFrameRate,
  events_to_annotate: { type: "array", maxItems: 500, items: str(256) },
  padding: num,
  paddingX: num,
  paddingY: num,
  ...afterPadding,
  ...ANNOTATION_EDITING,
});

const SPECS: Record<TaskType, TaskTypeSpec> = {
  imageannotation: {
    required: ["attachment", "geometries"],
    properties: {
      attachment: str(),
      attachment_type: { enum: ["image"] },
      geometries,
      layers: obj,
      links: obj,
      padding: num,
      paddingX: num,
      paddingY: num,
      image_metadata: obj,
      context_attachments: contextAttachments,
      ...ANNOTATION_EDITING,
    },
    defaults: { attachment_type: "image" },
  },
  segmentannotation: {
    required: ["attachment", "labels"],
    properties: {
      attachment: str(),
      attachment_type: { enum: ["image"] },
      labels: labels(50),
      allow_unlabeled: bool,
      hypothesis: obj,
      context_attachments: contextAttachments,
      annotation_attributes: obj,
    },
    defaults: { attachment_type: "image", allow_unlabeled: false },
  },
  lidarannotation: {
    required: ["attachments", "labels"],
    properties: {
      attachments: urls(10_000),
      attachment_type: { enum: ["json", "protobuf"] },
      labels: labels(50),
      meters_per_unit: num,
      max_distance_meters: num,
      annotation_attributes: obj,
    },
    defaults: { attachment_type: "json" },
  },
  lidarsegmentation: {
    required: ["labels"],
    properties: {
      attachments: urls(10_000),
      attachment_type: { enum: ["json", "protobuf"] },
      labels: labels(500),
      lidar_task: str(64),
      lidar_task_frames: { type: "array", maxItems: 10_000, items: { type: "integer", minimum: 0 } },
      annotation_attributes: obj,
    },
    defaults: {},
    rule: (body) => {
      if (body["project"] === undefined && body["batch"] === undefined) throw badRequest("Please include a project or batch parameter.");
      if (body["lidar_task"] === undefined && body["attachments"] === undefined) throw invalidParam("attachments", "is required");
      if (body["attachments"] !== undefined && body["attachment_type"] === undefined) body["attachment_type"] = "json";
    },
  },
  namedentityrecognition: {
    required: ["text", "labels"],
    properties: {
      text: { type: "string", minLength: 1, maxLength: 1_000_000 },
      labels: { type: "array", minItems: 1, maxItems: 500, items: { type: "object", required: ["name"], properties: { name: str(256) } } },
      relationships: { type: "array", maxItems: 500, items: obj },
      attachments: { type: "array", maxItems: 100 },
    },
    defaults: {},
  },
  documenttranscription: {
    required: [],
    properties: {
      attachment: str(),
      attachments: urls(1000),
      features: {
        type: "array",
        maxItems: 500,
        items: { type: "object", required: ["type"], properties: { type: { enum: ["text", "block", "group"] }, label: str(256) } },
      },
      geometry: { enum: ["box", "polygon"] },
      lang: str(32),
      title: str(1024),
      description: str(100_000),
      hypothesis: obj,
      responses_required: { type: "integer", minimum: 1 },
    },
    defaults: { lang: "en-US", geometry: "box", responses_required: 1 },
    rule: eitherAttachment,
  },
  textcollection: {
    // Scale's SDK README shows a missing `attachments` answered `"attachments" is required`.
    required: ["fields", "attachments"],
    properties: {
      fields: { type: "array", minItems: 1, maxItems: 500, items: { type: "object", required: ["type"], properties: { type: str(64), field_id: str(256) } } },
      attachments: {
        type: "array",
        maxItems: 500,
        items: {
          type: "object",
          required: ["type", "content"],
          properties: { type: { enum: ["text", "image", "website", "pdf", "video", "audio"] }, content: str(1_000_000) },
        },
      },
      title: str(1024),
      description: str(100_000),
      hypothesis: obj,
      responses_required: { type: "integer", minimum: 1 },
    },
    defaults: { responses_required: 1 },
  },
  videoannotation: {
    required: ["geometries"],
    properties: videoProperties({}, { links: obj, layers: obj }),
    defaults: {},
    rule: (body) => {
      const kind = body["attachment_type"];
      if (kind === "image") {
        if (body["attachments"] === undefined) throw invalidParam("attachments", "is required");
      } else if (kind === "video") {
        if (body["attachment"] === undefined) throw invalidParam("attachment", "is required");
        if (body["attachments"] !== undefined) throw invalidParam("attachments", "is not allowed");
      } else {
        eitherAttachment(body);
      }
    },
  },
  videoplaybackannotation: {
    required: ["geometries"],
    properties: videoProperties({ start_time: { type: "number", minimum: 0 } }, {}),
    defaults: { frame_rate: 1, attachment_type: "video" },
    rule: (body) => {
      if (body["attachment_type"] === "image") {
        if (body["attachments"] === undefined) throw invalidParam("attachments", "is required");
      } else if (body["attachment"] === undefined) {
        throw invalidParam("attachment", "is required");
      }
    },
  },
};

const CHECKS = new Map<TaskType, Check<Record<string, unknown>>>(
  TASK_TYPES.map((type) => {
    const spec = SPECS[type];
    const schema: JsonSchema = { type: "object", required: spec.required, properties: { ...COMMON, ...spec.properties } };
    return [type, compileCheck<Record<string, unknown>>(schema)];
  }),
);

/**
 * Checks a create-task body for its type (required fields, types, at most 5 tags, cross-field rules) and returns a
 * copy with Scale's defaults filled in. Throws a 400 worded as Scale words it.
 */
export function checkTaskBody(type: TaskType, body: unknown): Record<string, unknown> {
  const check = CHECKS.get(type);
  if (!check) throw badRequest(`Unsupported task type ${type}.`);
  const copy = check(body === undefined ? {} : body);
  const out: Record<string, unknown> = { ...copy };
  SPECS[type].rule?.(out);
  for (const [name, value] of Object.entries(SPECS[type].defaults)) if (out[name] === undefined) out[name] = value;
  return out;
}
