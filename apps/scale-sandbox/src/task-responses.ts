import { randomUUID } from "node:crypto";
import type { ResultDocument, TaskRecord } from "./state";

/** A 1×1 PNG, served for segmentation masks. */
const PIXEL_PNG = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==", "base64");

/** Where a completed task's result files are served: Scale's secure result URL form. */
export type ResultUrl = (task: TaskRecord, uuid: string) => string;

/**
 * A plausible completed `response` for a task, shaped after the type's documented response format (reference §6).
 * Result files (masks, lidar and video annotations) are stored on the task and referenced by secure result URLs.
 * The values are dummies, as Scale's own test mode returns: the shapes are what a client can rely on.
 */
export function plausibleResponse(task: TaskRecord, resultUrl: ResultUrl): Record<string, unknown> {
  const p = task.params;
  const store = (doc: ResultDocument): string => {
    const uuid = randomUUID();
    task.results.set(uuid, doc);
    return resultUrl(task, uuid);
  };
  const json = (body: ResultDocument["body"]): string => store({ contentType: "application/json", body });

  switch (task.type) {
    case "imageannotation":
      return { annotations: geometryAnnotations(p["geometries"]) };
    case "segmentannotation": {
      const names = labelNames(p["labels"]);
      const png = (): string => store({ contentType: "image/png", body: PIXEL_PNG });
      return {
        annotations: {
          unlabeled: null,
          labeled: Object.fromEntries(names.map((name) => [name, png()])),
          combined: { image: png(), indexedImage: png() },
        },
        labelMapping: Object.fromEntries(names.map((name, i) => [name, { index: i + 1, color: color(i) }])),
      };
    }
    case "lidarannotation": {
      const frames = Array.isArray(p["attachments"]) ? p["attachments"].length : 1;
      const label = labelNames(p["labels"])[0] ?? "object";
      const cuboids = Array.from({ length: frames }, (_, frame) => ({
        frame,
        cuboids: [{ uuid: randomUUID(), label, position: { x: 10 + frame, y: 2, z: 0.9 }, dimensions: { x: 4.5, y: 1.9, z: 1.6 }, yaw: 0.1 }],
      }));
      return { annotations: { url: json(cuboids) } };
    }
    case "lidarsegmentation": {
      const names = labelNames(p["labels"]);
      const frames = Array.isArray(p["attachments"]) ? p["attachments"].length : 1;
      const doc = {
        objects: names.map((label, i) => ({ label, index: i + 1 })),
        point_objects: Array.from({ length: frames }, () => [0, 1, 1, 0]),
      };
      return { point_segmentations: { url: json(doc) } };
    }
    case "namedentityrecognition":
      return { annotations: entityAnnotations(String(p["text"] ?? ""), labelNames(p["labels"])), relationships: [] };
    case "documenttranscription":
      return { annotations: documentAnnotations(p["features"], p["geometry"] === "polygon") };
    case "textcollection":
      return { response: textFields(p["fields"]) };
    case "videoannotation":
    case "videoplaybackannotation": {
      const boxes = geometryAnnotations(p["geometries"]);
      const frames = Array.from({ length: 3 }, (_, key) => ({ key, annotations: boxes }));
      return { annotations: { url: json(frames) }, events: { url: json({ events: [] }) } };
    }
  }
}

/** Fields Scale sets beside `response` on some completed tasks. */
export function completionExtras(task: TaskRecord): Record<string, unknown> {
  if (task.type !== "documenttranscription") return {};
  const pages = Array.isArray(task.params["attachments"]) ? task.params["attachments"].length : 1;
  return { document_pages: Array.from({ length: pages }, () => ({ width: 1700, height: 2200 })) };
}

/** The response of a task whose attachments could not be processed (reference §2). */
export function attachmentErrorResponse(task: TaskRecord, message: string): Record<string, unknown> {
  const p = task.params;
  const urls = [p["attachment"], ...(Array.isArray(p["attachments"]) ? p["attachments"] : [])].filter((u): u is string => typeof u === "string");
  return { error: message, attachments: urls.map((url) => ({ statusCode: 403, url })) };
}

function labelOf(item: unknown): string {
  if (typeof item === "string") return item;
  if (item && typeof item === "object") {
    const o = item as Record<string, unknown>;
    for (const key of ["choice", "name", "label"]) if (typeof o[key] === "string") return o[key];
  }
  return "object";
}

function labelNames(labels: unknown): string[] {
  return Array.isArray(labels) ? labels.map(labelOf) : [];
}

function color(i: number): string {
  const palette = ["#e6194b", "#3cb44b", "#ffe119", "#4363d8", "#f58231", "#911eb4", "#46f0f0", "#f032e6"];
  return palette[i % palette.length] ?? "#000000";
}

function geometryAnnotations(geometries: unknown): Record<string, unknown>[] {
  if (!geometries || typeof geometries !== "object") return [];
  const out: Record<string, unknown>[] = [];
  for (const [kind, config] of Object.entries(geometries as Record<string, unknown>)) {
    const objects = (config as { objects_to_annotate?: unknown }).objects_to_annotate;
    const label = Array.isArray(objects) && objects.length > 0 ? labelOf(objects[0]) : kind;
    const base = { uuid: randomUUID(), type: kind, label, attributes: {} };
    switch (kind) {
      case "box":
        out.push({ ...base, left: 12, top: 24, width: 120, height: 80 });
        break;
      case "polygon":
      case "line":
        out.push({ ...base, vertices: [{ x: 10, y: 10 }, { x: 60, y: 12 }, { x: 40, y: 50 }].slice(0, kind === "line" ? 2 : 3) });
        break;
      case "point":
        out.push({ ...base, x: 42, y: 17 });
        break;
      case "cuboid":
        out.push({ ...base, points: [{ x: 10, y: 10 }, { x: 90, y: 10 }, { x: 90, y: 60 }, { x: 10, y: 60 }, { x: 25, y: 0 }, { x: 105, y: 0 }, { x: 105, y: 50 }, { x: 25, y: 50 }] });
        break;
      case "ellipse":
        out.push({ ...base, x: 50, y: 40, rx: 20, ry: 12, angle: 0 });
        break;
      default:
        break;
    }
  }
  return out;
}

function entityAnnotations(text: string, labels: string[]): Record<string, unknown>[] {
  const match = /\S+/.exec(text);
  if (!match || labels.length === 0) return [];
  return [{ id: randomUUID(), start: match.index, end: match.index + match[0].length, text: match[0], label: labels[0] }];
}

function documentAnnotations(features: unknown, polygon: boolean): Record<string, unknown>[] {
  if (!Array.isArray(features)) return [];
  return features
    .filter((f): f is Record<string, unknown> => !!f && typeof f === "object" && f["type"] !== "group")
    .map((f, i) => ({
      uuid: randomUUID(),
      type: f["type"],
      label: f["label"] ?? `field_${i}`,
      text: "Sample text",
      page: 0,
      location: polygon
        ? { type: "polygon", vertices: [{ x: 100, y: 100 + i * 40 }, { x: 400, y: 100 + i * 40 }, { x: 400, y: 130 + i * 40 }, { x: 100, y: 130 + i * 40 }] }
        : { type: "box", left: 100, top: 100 + i * 40, width: 300, height: 30 },
      refs: [],
    }));
}

function textFields(fields: unknown): Record<string, unknown> {
  if (!Array.isArray(fields)) return {};
  const out: Record<string, unknown> = {};
  fields.forEach((field, i) => {
    const f = (field ?? {}) as Record<string, unknown>;
    const id = typeof f["field_id"] === "string" ? f["field_id"] : `field_${i}`;
    const choices = Array.isArray(f["choices"]) ? (f["choices"] as Record<string, unknown>[]) : [];
    if (f["type"] === "category") out[id] = choices.length > 0 ? [choices[0]?.["value"] ?? choices[0]?.["label"]] : [];
    else if (f["type"] === "number") out[id] = 42;
    else out[id] = "Sample text";
  });
  return out;
}
