import type { FastifyInstance } from "fastify";
import { worldOf } from "../auth";
import { conflict, invalidParam } from "../errors";
import { getTask } from "../lookups";
import type { TaskRecord } from "../state";
import { taskView } from "../task-view";
import { checkMetadata, compileCheck } from "../validate";

/** Tag bodies are bare JSON arrays of non-empty strings (the SDK sends `json=tags`). */
const checkTags = compileCheck<string[]>({ type: "array", maxItems: 100, items: { type: "string", minLength: 1, maxLength: 256 } });
const checkUniqueIdBody = compileCheck<{ unique_id: string }>({
  type: "object",
  required: ["unique_id"],
  properties: { unique_id: { type: "string", minLength: 1, maxLength: 1024 } },
});
/** Scale caps a task at 5 tags on creation; the same cap holds when tags are added or set afterwards. */
const MAX_TAGS = 5;

/** ADD_TASK_TAGS (PUT), set-all (POST), DELETE_TASK_TAGS, SET_TASK_METADATA, UPDATE/DELETE_TASK_UNIQUE_ID. */
export function taskUpdateRoutes(app: FastifyInstance): void {
  const touched = (task: TaskRecord): void => {
    task.updatedAt = new Date().toISOString();
  };

  app.put<{ Params: { task_id: string } }>("/task/:task_id/tags", async (request) => {
    const world = worldOf(request);
    const task = getTask(world, request.params.task_id);
    const merged = [...new Set([...(task.tags ?? []), ...checkTags(request.body)])];
    task.tags = capped(merged);
    touched(task);
    return taskView(task, world.mode === "test");
  });

  app.post<{ Params: { task_id: string } }>("/task/:task_id/tags", async (request) => {
    const world = worldOf(request);
    const task = getTask(world, request.params.task_id);
    task.tags = capped([...new Set(checkTags(request.body))]);
    touched(task);
    return taskView(task, world.mode === "test");
  });

  app.delete<{ Params: { task_id: string } }>("/task/:task_id/tags", async (request) => {
    const world = worldOf(request);
    const task = getTask(world, request.params.task_id);
    const remove = new Set(checkTags(request.body));
    task.tags = (task.tags ?? []).filter((tag) => !remove.has(tag));
    touched(task);
    return taskView(task, world.mode === "test");
  });

  // The body is the metadata object itself, and replaces the task's metadata whole.
  app.post<{ Params: { task_id: string } }>("/task/:task_id/setMetadata", async (request) => {
    const world = worldOf(request);
    const task = getTask(world, request.params.task_id);
    task.metadata = checkMetadata(request.body, "value");
    touched(task);
    return taskView(task, world.mode === "test");
  });

  app.post<{ Params: { task_id: string } }>("/task/:task_id/unique_id", async (request) => {
    const world = worldOf(request);
    const task = getTask(world, request.params.task_id);
    const { unique_id: uniqueId } = checkUniqueIdBody(request.body);
    const owner = world.uniqueIds.get(uniqueId);
    if (owner !== undefined && owner !== task.id) throw conflict(`The unique_id ("${uniqueId}") is already used for a different task (${owner}).`);
    if (task.uniqueId !== undefined) world.uniqueIds.delete(task.uniqueId);
    task.uniqueId = uniqueId;
    world.uniqueIds.set(uniqueId, task.id);
    touched(task);
    return taskView(task, world.mode === "test");
  });

  app.delete<{ Params: { task_id: string } }>("/task/:task_id/unique_id", async (request) => {
    const world = worldOf(request);
    const task = getTask(world, request.params.task_id);
    if (task.uniqueId !== undefined) world.uniqueIds.delete(task.uniqueId);
    task.uniqueId = undefined;
    touched(task);
    return taskView(task, world.mode === "test");
  });
}

function capped(tags: string[]): string[] {
  if (tags.length > MAX_TAGS) throw invalidParam("tags", `must contain less than or equal to ${MAX_TAGS} items`);
  return tags;
}
