/**
 * Scale AI task changes as trigger events. One function serves callbacks and polling, so both yield the same events
 * with the same deduplication keys: a callback Scale retries, or a change both a callback and a poll saw, is stored
 * once (the unique (workspace_id, dedup_key) index).
 *
 * Keys (per workspace): `scale_ai:task:<id>:completed:<completed_at>` (a recall and a new completion is a new event),
 * `scale_ai:task:<id>:error`, `scale_ai:task:<id>:audit:<n>:<audited_at>` (the n-th audit),
 * `scale_ai:task:<id>:recalled:<updated_at>`.
 */

export const SCALE_TRIGGERS = {
  completed: "SCALE_AI_TASK_COMPLETED",
  errored: "SCALE_AI_TASK_ERRORED",
  audited: "SCALE_AI_TASK_AUDITED",
  recalled: "SCALE_AI_TASK_RECALLED",
} as const;

export interface TaskEvent {
  readonly trigger: string;
  readonly dedupKey: string;
  readonly data: Record<string, unknown>;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === "string" && v.length > 0 && v.length <= 128 ? v : undefined);

/**
 * The events a task's current state implies. `via` says where the task came from: a callback (Scale calls back on
 * completion, error, audit and recall, so a `pending` task there is a recall) or a poll (a pending task is just
 * pending: polling cannot tell a recall from a task not done yet, see README).
 */
export function eventsOfTask(task: unknown, response: unknown, via: "callback" | "poll"): TaskEvent[] {
  if (!isObject(task)) return [];
  const id = str(task["task_id"]) ?? str(task["id"]);
  if (id === undefined) return [];
  const status = task["status"];
  const base = { task_id: id, task, response: isObject(response) ? response : isObject(task["response"]) ? task["response"] : null };
  const key = `scale_ai:task:${id}`;
  const events: TaskEvent[] = [];
  if (status === "completed") {
    const completedAt = str(task["completed_at"]) ?? str(task["updated_at"]) ?? "";
    events.push({ trigger: SCALE_TRIGGERS.completed, dedupKey: `${key}:completed:${completedAt}`, data: base });
    const audits = Array.isArray(task["audits"]) ? task["audits"] : [];
    audits.slice(0, 100).forEach((audit, n) => {
      if (!isObject(audit)) return;
      const at = str(audit["audited_at"]) ?? "";
      events.push({ trigger: SCALE_TRIGGERS.audited, dedupKey: `${key}:audit:${n}:${at}`, data: { ...base, audit } });
    });
  } else if (status === "error") {
    events.push({ trigger: SCALE_TRIGGERS.errored, dedupKey: `${key}:error`, data: base });
  } else if (status === "pending" && via === "callback") {
    events.push({ trigger: SCALE_TRIGGERS.recalled, dedupKey: `${key}:recalled:${str(task["updated_at"]) ?? ""}`, data: base });
  }
  return events;
}
