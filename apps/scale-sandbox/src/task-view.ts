import type { TaskRecord } from "./state";

/**
 * A task as Scale answers it (reference §4.1): top-level `project`/`batch`/`metadata`/`tags`/`unique_id`/`priority`,
 * type inputs under `params`. `tags` is absent until set, `unique_id` absent when cleared, `response` and
 * `completed_at` only once the task has them.
 */
export function taskView(task: TaskRecord, isTest: boolean): Record<string, unknown> {
  const view: Record<string, unknown> = {
    task_id: task.id,
    created_at: task.createdAt,
    updated_at: task.updatedAt,
  };
  if (task.completedAt !== undefined) view["completed_at"] = task.completedAt;
  view["type"] = task.type;
  view["status"] = task.status;
  if (task.instruction !== undefined) view["instruction"] = task.instruction;
  view["params"] = task.params;
  if (task.callbackUrl !== undefined) view["callback_url"] = task.callbackUrl;
  if (task.callbackSucceeded !== undefined) view["callback_succeeded"] = task.callbackSucceeded;
  if (task.response !== undefined) view["response"] = task.response;
  Object.assign(view, task.extras);
  view["metadata"] = task.metadata;
  if (task.audits.length > 0) view["audits"] = task.audits;
  if (task.customerReviewStatus !== undefined) view["customer_review_status"] = task.customerReviewStatus;
  if (task.tags !== undefined) view["tags"] = task.tags;
  if (task.uniqueId !== undefined) view["unique_id"] = task.uniqueId;
  if (task.project !== undefined) view["project"] = task.project;
  if (task.batch !== undefined) view["batch"] = task.batch;
  if (task.projectParamVersion !== undefined) view["project_param_version"] = task.projectParamVersion;
  view["priority"] = task.priority;
  view["is_test"] = isTest;
  // The sandbox has no taskers: work counts as started once a task has an outcome.
  view["work_started"] = task.status === "completed" || task.status === "error";
  return view;
}

/** What `limited_response=true` lists keep of a task. */
export function limitedTaskView(task: TaskRecord): Record<string, unknown> {
  const view: Record<string, unknown> = { task_id: task.id, status: task.status, metadata: task.metadata };
  if (task.project !== undefined) view["project"] = task.project;
  return view;
}
