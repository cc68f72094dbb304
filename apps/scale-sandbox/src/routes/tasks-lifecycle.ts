import type { FastifyInstance } from "fastify";
import { worldOf } from "../auth";
import type { SandboxDeps } from "../deps";
import { badRequest, notFound } from "../errors";
import { getTask } from "../lookups";
import { Query } from "../query";
import { taskView } from "../task-view";
import { compileCheck } from "../validate";

const checkAudit = compileCheck<{ accepted: boolean; comments?: string }>({
  type: "object",
  required: ["accepted"],
  properties: { accepted: { type: "boolean" }, comments: { type: "string", maxLength: 10_000 } },
});

/** Cancel and audit (lifecycle calls beside the 40), POST_V1_TASK_SEND_CALLBACK and GET_V1_TASK_RESPONSE_URL. */
export function taskLifecycleRoutes(app: FastifyInstance, deps: SandboxDeps): void {
  app.post<{ Params: { task_id: string } }>("/task/:task_id/cancel", async (request) => {
    const world = worldOf(request);
    const clearUniqueId = new Query(request.query, ["clear_unique_id"]).bool("clear_unique_id") ?? false;
    const task = getTask(world, request.params.task_id);
    deps.lifecycle.cancel(world, task, clearUniqueId);
    return taskView(task, world.mode === "test");
  });

  app.post<{ Params: { task_id: string } }>("/task/:task_id/audit", async (request) => {
    const world = worldOf(request);
    const task = getTask(world, request.params.task_id);
    const body = checkAudit(request.body ?? {});
    deps.lifecycle.audit(world, task, body.accepted, body.comments);
    return taskView(task, world.mode === "test");
  });

  // Inferred path (reference action 32): resends the callback of a finished task.
  app.post<{ Params: { task_id: string } }>("/task/:task_id/send_callback", async (request) => {
    const world = worldOf(request);
    const task = getTask(world, request.params.task_id);
    if (task.status !== "completed" && task.status !== "error") {
      throw badRequest(`Task ${task.id} is ${task.status}; callbacks are sent for completed or errored tasks only.`);
    }
    if (task.callbackUrl === undefined) throw badRequest(`Task ${task.id} has no callback_url.`);
    deps.lifecycle.notify(world, task);
    return { success: true };
  });

  // Secure result URLs: the files a completed task's response points at, behind the same Basic auth.
  app.get<{ Params: { task_id: string; uuid: string } }>("/task/:task_id/response_url/:uuid", async (request, reply) => {
    const world = worldOf(request);
    const task = getTask(world, request.params.task_id);
    const doc = task.results.get(request.params.uuid);
    if (!doc) throw notFound(`Result ${request.params.uuid} not found for task ${task.id}.`);
    reply.type(doc.contentType);
    return Buffer.isBuffer(doc.body) ? doc.body : JSON.stringify(doc.body);
  });
}
