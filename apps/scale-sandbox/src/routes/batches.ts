import type { FastifyInstance } from "fastify";
import { worldOf } from "../auth";
import { conflict, invalidParam } from "../errors";
import { objectId } from "../ids";
import { getBatch, getProject } from "../lookups";
import { Query } from "../query";
import type { BatchRecord, World } from "../state";
import { checkMetadata, compileCheck, isCallbackTarget } from "../validate";

interface CreateBatchBody {
  name: string;
  project: string;
  callback?: string;
  self_label_batch?: boolean;
  calibration_batch?: boolean;
  metadata?: Record<string, unknown>;
}

const checkCreate = compileCheck<CreateBatchBody>({
  type: "object",
  required: ["name", "project"],
  properties: {
    name: { type: "string", minLength: 1, maxLength: 256 },
    project: { type: "string", minLength: 1, maxLength: 256 },
    // The SDK always sends `callback: ""` when none is given.
    callback: { type: "string", maxLength: 2048 },
    self_label_batch: { type: "boolean" },
    calibration_batch: { type: "boolean" },
    metadata: { type: "object" },
  },
});

const LIST_PARAMS = [
  "limit",
  "offset",
  "status",
  "project",
  "detailed",
  "end_time",
  "start_time",
  "completed_after",
  "completed_before",
  "audited_after",
  "audited_before",
  "exclude_archived",
];

type Counts = { pending: number; completed: number; error: number; canceled: number };

/** CREATE_BATCH, LIST_BATCHES, GET_BATCH, GET_BATCH_STATUS, FINALIZE_BATCH. */
export function batchRoutes(app: FastifyInstance): void {
  app.post("/batches", async (request) => {
    const world = worldOf(request);
    const body = checkCreate(request.body ?? {});
    const project = getProject(world, body.project);
    if (world.batches.has(body.name)) throw conflict(`Batch with name ${body.name} already exists.`);
    const callback = body.callback ?? "";
    if (callback !== "" && !isCallbackTarget(callback)) throw invalidParam("callback", "must be a valid uri or email address");
    const now = new Date().toISOString();
    const batch: BatchRecord = {
      id: objectId(),
      name: body.name,
      project: project.name,
      callback,
      // Rapid and Studio batches are staged until finalized; standard batches start in progress.
      status: project.rapid || project.studio ? "staging" : "in_progress",
      createdAt: now,
      updatedAt: now,
      metadata: body.metadata === undefined ? {} : checkMetadata(body.metadata),
      selfLabel: body.self_label_batch === true,
      calibration: body.calibration_batch === true,
    };
    world.batches.set(batch.name, batch);
    return batchView(world, batch);
  });

  // Offset paging, newest first; the count is given as both `totalDocs` (read by the SDK) and `total` (Fern).
  app.get("/batches", async (request) => {
    const world = worldOf(request);
    const q = new Query(request.query, LIST_PARAMS);
    const limit = q.int("limit", { min: 1, max: 100 }) ?? 100;
    const offset = q.int("offset", { min: 0 }) ?? 0;
    const status = q.oneOf("status", ["staging", "in_progress", "completed"] as const);
    const project = q.string("project");
    const detailed = q.bool("detailed") ?? false;
    const from = q.date("start_time");
    const to = q.date("end_time");
    const excludeArchived = q.bool("exclude_archived") ?? false;
    for (const name of ["completed_after", "completed_before", "audited_after", "audited_before"]) q.date(name);

    const matching = [...world.batches.values()]
      .reverse()
      .filter((b) => project === undefined || b.project === project)
      .filter((b) => status === undefined || batchStatus(world, b) === status)
      .filter((b) => (from === undefined || Date.parse(b.createdAt) >= from) && (to === undefined || Date.parse(b.createdAt) <= to))
      .filter((b) => !excludeArchived || world.projects.get(b.project)?.archived !== true);
    const docs = matching.slice(offset, offset + limit).map((b) => (detailed ? { ...batchView(world, b), ...nonZero(countTasks(world, b)) } : batchView(world, b)));
    return { docs, totalDocs: matching.length, total: matching.length, limit, offset, has_more: offset + docs.length < matching.length };
  });

  app.get<{ Params: { batch_name: string } }>("/batches/:batch_name", async (request) => {
    const world = worldOf(request);
    return batchView(world, getBatch(world, request.params.batch_name));
  });

  // Count keys are left out when zero; the SDK reads them with .get(k, 0).
  app.get<{ Params: { batch_name: string } }>("/batches/:batch_name/status", async (request) => {
    const world = worldOf(request);
    const batch = getBatch(world, request.params.batch_name);
    return { status: batchStatus(world, batch), ...nonZero(countTasks(world, batch)) };
  });

  // Rapid/Studio: staging → in_progress. Other batches: a no-op that still answers 200 with the batch.
  app.post<{ Params: { batch_name: string } }>("/batches/:batch_name/finalize", async (request) => {
    const world = worldOf(request);
    const batch = getBatch(world, request.params.batch_name);
    if (batch.status === "staging") {
      batch.status = "in_progress";
      batch.updatedAt = new Date().toISOString();
    }
    return batchView(world, batch);
  });
}

export function countTasks(world: World, batch: BatchRecord): Counts {
  const counts: Counts = { pending: 0, completed: 0, error: 0, canceled: 0 };
  for (const task of world.taskOrder) if (task.batch === batch.name) counts[task.status] += 1;
  return counts;
}

function nonZero(counts: Counts): Partial<Counts> {
  return Object.fromEntries(Object.entries(counts).filter(([, n]) => n > 0));
}

/** A batch in progress is completed once it has tasks and none of them is pending. */
export function batchStatus(world: World, batch: BatchRecord): "staging" | "in_progress" | "completed" {
  if (batch.status === "staging") return "staging";
  const counts = countTasks(world, batch);
  const total = counts.pending + counts.completed + counts.error + counts.canceled;
  return total > 0 && counts.pending === 0 ? "completed" : "in_progress";
}

/** A batch as Scale answers it (reference §4.2). */
export function batchView(world: World, batch: BatchRecord): Record<string, unknown> {
  return {
    project: batch.project,
    name: batch.name,
    callback: batch.callback,
    status: batchStatus(world, batch),
    created_at: batch.createdAt,
    updated_at: batch.updatedAt,
    metadata: batch.metadata,
    self_label_batch: batch.selfLabel,
    calibration_batch: batch.calibration,
  };
}
