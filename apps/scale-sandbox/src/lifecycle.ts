import { conflict, badRequest } from "./errors";
import { objectId } from "./ids";
import type { CallbackSender } from "./callbacks";
import type { Settings } from "./settings";
import { OWNER_EMAIL, type AuditRecord, type TaskRecord, type World } from "./state";
import { attachmentErrorResponse, completionExtras, plausibleResponse } from "./task-responses";
import { taskView } from "./task-view";
import type { Timers } from "./timers";

export const DEFAULT_ERROR_MESSAGE = "One or more attachments could not be downloaded.";

/**
 * Moves tasks through Scale's statuses (pending → completed | canceled, any → error) and fires the callback on
 * completion, error and audit, as Scale does (reference §5).
 */
export class Lifecycle {
  private readonly timers: Timers;
  private readonly callbacks: CallbackSender;
  private readonly settings: Settings;

  constructor(deps: { timers: Timers; callbacks: CallbackSender; settings: Settings }) {
    this.timers = deps.timers;
    this.callbacks = deps.callbacks;
    this.settings = deps.settings;
  }

  /** A new task: `test_…` keys complete it at once; `live_…` keys wait for the control API or the configured delay. */
  created(world: World, task: TaskRecord): void {
    if (world.mode === "test") {
      this.complete(world, task);
      return;
    }
    const delay = this.settings.liveCompletionDelayMs;
    if (delay === null) return;
    this.timers.schedule(world, delay, () => {
      if (task.status === "pending" && world.tasks.get(task.id) === task) this.complete(world, task);
    });
  }

  /** pending → completed, with the given response or a plausible one for the task's type. */
  complete(world: World, task: TaskRecord, response?: Record<string, unknown>): void {
    if (task.status !== "pending") throw conflict(`Task ${task.id} is ${task.status}; only pending tasks can be completed.`);
    const now = new Date().toISOString();
    task.status = "completed";
    task.completedAt = now;
    task.updatedAt = now;
    task.response = response ?? plausibleResponse(task, (t, uuid) => `${this.settings.publicUrl}/v1/task/${t.id}/response_url/${uuid}`);
    task.extras = completionExtras(task);
    this.notify(world, task);
  }

  /** pending or completed → error, as when Scale cannot process the attachments; clears unique_id if asked to. */
  fail(world: World, task: TaskRecord, message = DEFAULT_ERROR_MESSAGE, response?: Record<string, unknown>): void {
    if (task.status === "canceled" || task.status === "error") throw conflict(`Task ${task.id} is ${task.status}; it cannot move to error.`);
    const now = new Date().toISOString();
    task.status = "error";
    task.updatedAt = now;
    task.response = response ?? attachmentErrorResponse(task, message);
    if (task.clearUniqueIdOnError && task.uniqueId !== undefined) {
      world.uniqueIds.delete(task.uniqueId);
      task.uniqueId = undefined;
    }
    this.notify(world, task);
  }

  /** pending → canceled; a second cancel answers the task again (Fern: idempotent); completed or error → 400. */
  cancel(world: World, task: TaskRecord, clearUniqueId: boolean): void {
    if (task.status === "completed" || task.status === "error") {
      throw badRequest(`Task ${task.id} cannot be canceled because it is already ${task.status}.`);
    }
    if (task.status === "pending") {
      task.status = "canceled";
      task.updatedAt = new Date().toISOString();
    }
    if (clearUniqueId && task.uniqueId !== undefined) {
      world.uniqueIds.delete(task.uniqueId);
      task.uniqueId = undefined;
    }
  }

  /** A customer audit of a completed task: recorded, reflected in customer_review_status, and called back. */
  audit(world: World, task: TaskRecord, accepted: boolean, comments: string | undefined): AuditRecord {
    if (task.status !== "completed") throw badRequest(`Task ${task.id} is ${task.status}; only completed tasks can be audited.`);
    const audit: AuditRecord = {
      id: objectId(),
      task_id: task.id,
      audit_result: accepted ? "accepted" : "rejected",
      audited_by: OWNER_EMAIL,
      audited_at: new Date().toISOString(),
      audit_time_secs: 0,
      audit_source: "customer",
      ...(comments === undefined ? {} : { comments }),
    };
    task.audits.push(audit);
    task.customerReviewStatus = audit.audit_result;
    task.updatedAt = audit.audited_at;
    this.notify(world, task);
    return audit;
  }

  /** Sends the task's callback now (completion, error, audit, or an explicit send_callback). */
  notify(world: World, task: TaskRecord): void {
    const view = taskView(task, world.mode === "test");
    this.callbacks.send(world, task, { task: view, response: task.response ?? {}, task_id: task.id });
  }
}
