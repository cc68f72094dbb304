import type { FastifyInstance } from "fastify";
import { worldOf } from "../auth";
import { invalidParam } from "../errors";
import { getTask } from "../lookups";
import { Query } from "../query";
import { AUDIT_RESULTS, TASK_STATUSES, type TaskRecord } from "../state";
import { limitedTaskView, taskView } from "../task-view";

/** Every parameter GET /v1/tasks takes (reference action 31); any other answers 400, as on Scale. */
const LIST_PARAMS = [
  "tags",
  "type",
  "batch",
  "limit",
  "status",
  "project",
  "end_time",
  "unique_id",
  "next_token",
  "start_time",
  "updated_after",
  "updated_before",
  "completed_after",
  "completed_before",
  "customer_review_status",
  "include_attachment_url",
  "limited_response",
  // The Python SDK's names for start_time/end_time; accepted in case a client sends them as they are.
  "created_after",
  "created_before",
] as const;

/** `pending`: no audit yet. */
const REVIEW_STATUSES: readonly string[] = ["pending", ...AUDIT_RESULTS];

/** GET_V1_TASK and LIST_TASKS. */
export function taskReadRoutes(app: FastifyInstance): void {
  app.get<{ Params: { task_id: string } }>("/task/:task_id", async (request) => {
    const world = worldOf(request);
    return taskView(getTask(world, request.params.task_id), world.mode === "test");
  });

  app.get("/tasks", async (request) => {
    const world = worldOf(request);
    const q = new Query(request.query, LIST_PARAMS);
    const limit = q.int("limit", { min: 1, max: 100 }) ?? 100;
    const match = taskFilter(q);
    const limited = q.bool("limited_response") ?? false;
    // Accepted for compatibility; the sandbox serves no presigned attachment copies.
    q.bool("include_attachment_url");

    // Cursor = the id of the last task of the previous page. Tasks are never deleted and new ones sort first, so
    // "older than the cursor" stays exact when tasks are created between two pages.
    const before = q.cursorSeq("next_token", world.tasks);

    let total = 0;
    let offset = 0;
    const page: TaskRecord[] = [];
    for (let i = world.taskOrder.length - 1; i >= 0; i--) {
      const task = world.taskOrder[i] as TaskRecord;
      if (!match(task)) continue;
      total += 1;
      if (task.seq >= before) offset += 1;
      else if (page.length < limit) page.push(task);
    }
    const hasMore = offset + page.length < total;
    return {
      docs: page.map((task) => (limited ? limitedTaskView(task) : taskView(task, world.mode === "test"))),
      total,
      limit,
      offset,
      has_more: hasMore,
      next_token: hasMore ? (page.at(-1)?.id ?? null) : null,
    };
  });
}

/** The list filters as one predicate. */
function taskFilter(q: Query): (task: TaskRecord) => boolean {
  const tags = q.list("tags");
  const uniqueIds = q.list("unique_id");
  const type = q.string("type", 64);
  const batch = q.string("batch");
  const project = q.string("project");
  const status = q.oneOf("status", TASK_STATUSES);
  const review = q.commaList("customer_review_status");
  for (const value of review ?? []) {
    if (!REVIEW_STATUSES.includes(value)) throw invalidParam("customer_review_status", `must be one of [${REVIEW_STATUSES.join(", ")}]`);
  }
  const createdFrom = q.date("start_time") ?? q.date("created_after");
  const createdTo = q.date("end_time") ?? q.date("created_before");
  const updatedFrom = q.date("updated_after");
  const updatedTo = q.date("updated_before");
  const completedFrom = q.date("completed_after");
  const completedTo = q.date("completed_before");
  const within = (iso: string | undefined, from: number | undefined, to: number | undefined): boolean => {
    if (from === undefined && to === undefined) return true;
    if (iso === undefined) return false;
    const t = Date.parse(iso);
    return (from === undefined || t >= from) && (to === undefined || t <= to);
  };
  return (task) =>
    (tags === undefined || (task.tags ?? []).some((t) => tags.includes(t))) &&
    (uniqueIds === undefined || (task.uniqueId !== undefined && uniqueIds.includes(task.uniqueId))) &&
    (type === undefined || task.type === type) &&
    (batch === undefined || task.batch === batch) &&
    (project === undefined || task.project === project) &&
    (status === undefined || task.status === status) &&
    (review === undefined || (review.includes("pending") && task.customerReviewStatus === undefined && task.status === "completed") ||
      (task.customerReviewStatus !== undefined && review.includes(task.customerReviewStatus))) &&
    within(task.createdAt, createdFrom, createdTo) &&
    within(task.updatedAt, updatedFrom, updatedTo) &&
    within(task.completedAt, completedFrom, completedTo);
}
