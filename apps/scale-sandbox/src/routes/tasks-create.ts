import type { FastifyInstance } from "fastify";
import { worldOf } from "../auth";
import type { SandboxDeps } from "../deps";
import { badRequest, conflict, invalidParam } from "../errors";
import { objectId } from "../ids";
import { getBatch, getProject } from "../lookups";
import type { ParamVersion, ProjectRecord, TaskRecord, World } from "../state";
import { TASK_TYPES, TOP_LEVEL_FIELDS, checkTaskBody, isTaskType, type TaskType } from "../task-types";
import { taskView } from "../task-view";
import { checkMetadata, isCallbackTarget } from "../validate";

/** Scale's default task priority. */
const DEFAULT_PRIORITY = 30;

/** `POST /v1/task/:type`: every CREATE_*_TASK action. */
export function taskCreateRoutes(app: FastifyInstance, deps: SandboxDeps): void {
  app.post<{ Params: { type: string } }>("/task/:type", async (request) => {
    const world = worldOf(request);
    const type = request.params.type;
    if (!isTaskType(type)) throw invalidParam("type", `must be one of [${TASK_TYPES.join(", ")}]`);
    const body = checkTaskBody(type, request.body);
    const idempotencyKey = headerValue(request.headers["idempotency-key"]);
    const task = buildTask(world, type, body, idempotencyKey);
    world.addTask(task);
    if (idempotencyKey !== undefined) world.idempotencyKeys.set(idempotencyKey, task.id);
    deps.lifecycle.created(world, task);
    return taskView(task, world.mode === "test");
  });
}

function headerValue(value: string | string[] | undefined): string | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  return v === undefined || v === "" ? undefined : v;
}

/** Checks the references and conflicts of a create-task body and builds the task (not yet stored). */
function buildTask(world: World, type: TaskType, body: Record<string, unknown>, idempotencyKey: string | undefined): TaskRecord {
  const metadata = body["metadata"] === undefined ? {} : checkMetadata(body["metadata"]);
  const callbackUrl = body["callback_url"] as string | undefined;
  if (callbackUrl !== undefined && callbackUrl !== "" && !isCallbackTarget(callbackUrl)) {
    throw invalidParam("callback_url", "must be a valid uri or email address");
  }

  const batchName = body["batch"] as string | undefined;
  const batch = batchName === undefined ? undefined : getBatch(world, batchName);
  const projectName = (body["project"] as string | undefined) ?? batch?.project;
  if (batch && body["project"] !== undefined && batch.project !== body["project"]) {
    throw badRequest(`Batch ${batch.name} belongs to project ${batch.project}, not ${String(body["project"])}.`);
  }
  const project = projectName === undefined ? undefined : getProject(world, projectName);
  if (project && project.type !== type) throw badRequest(`Project ${project.name} is a ${project.type} project; it cannot hold ${type} tasks.`);
  if (project && batch && (project.rapid || project.studio) && batch.status !== "staging") {
    throw badRequest(`Batch ${batch.name} has been finalized; no tasks can be added to it.`);
  }

  const uniqueId = body["unique_id"] as string | undefined;
  if (uniqueId !== undefined) {
    const owner = world.uniqueIds.get(uniqueId);
    if (owner !== undefined) throw conflict(`The unique_id ("${uniqueId}") is already used for a different task (${owner}).`);
  }
  if (idempotencyKey !== undefined) {
    const owner = world.idempotencyKeys.get(idempotencyKey);
    if (owner !== undefined) throw conflict(`The idempotency key ("${idempotencyKey}") was already used for task ${owner}.`);
  }
  if (body["lidar_task"] !== undefined) checkLidarTask(world, String(body["lidar_task"]));

  const inherited = project ? paramVersion(project, body["project_version"] as number | undefined) : undefined;
  const params: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(inherited ?? {})) {
    if (!["version", "created_at", "instruction", "priority"].includes(name) && !TOP_LEVEL_FIELDS.has(name)) params[name] = value;
  }
  for (const [name, value] of Object.entries(body)) if (!TOP_LEVEL_FIELDS.has(name)) params[name] = value;

  const now = new Date();
  const tags = body["tags"] as string[] | undefined;
  return {
    id: objectId(now),
    seq: world.nextSeq(),
    type,
    status: "pending",
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
    completedAt: undefined,
    instruction: joinInstructions(body["instruction"] as string | undefined, inherited?.["instruction"]),
    params,
    callbackUrl: callbackUrl === "" ? undefined : callbackUrl,
    callbackSucceeded: undefined,
    response: undefined,
    metadata,
    tags: tags === undefined ? undefined : [...new Set(tags)],
    uniqueId,
    project: project?.name,
    batch: batch?.name,
    priority: (body["priority"] as number | undefined) ?? numberOr(inherited?.["priority"], DEFAULT_PRIORITY),
    clearUniqueIdOnError: body["clear_unique_id_on_error"] === true,
    audits: [],
    customerReviewStatus: undefined,
    projectParamVersion: inherited?.version,
    results: new Map(),
    extras: {},
  };
}

/**
 * The project parameters a new task inherits: the latest version, the one named by `project_version`, or none for
 * `project_version: -1` (reference §37).
 */
function paramVersion(project: ProjectRecord, requested: number | undefined): ParamVersion | undefined {
  if (requested === -1) return undefined;
  if (requested === undefined) return project.paramHistory.at(-1);
  const found = project.paramHistory.find((v) => v.version === requested);
  if (!found) throw invalidParam("project_version", `must be a version of project ${project.name}`);
  return found;
}

/** The project's instruction is appended after the task's own (Scale's create-project docs). */
function joinInstructions(own: string | undefined, inherited: unknown): string | undefined {
  const fromProject = typeof inherited === "string" && inherited !== "" ? inherited : undefined;
  if (own === undefined) return fromProject;
  return fromProject === undefined ? own : `${own}\n\n${fromProject}`;
}

function numberOr(value: unknown, fallback: number): number {
  return typeof value === "number" && Number.isInteger(value) ? value : fallback;
}

/** A lidar segmentation may start from a completed lidar annotation task instead of its own frames. */
function checkLidarTask(world: World, taskId: string): void {
  const source = world.tasks.get(taskId);
  if (!source || source.type !== "lidarannotation") throw invalidParam("lidar_task", "must be the id of a lidarannotation task");
  if (source.status !== "completed") throw invalidParam("lidar_task", "must be a completed task");
}
