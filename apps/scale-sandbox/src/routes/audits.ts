import type { FastifyInstance, FastifyRequest } from "fastify";
import { worldOf } from "../auth";
import { badRequest, notFound } from "../errors";
import { getTask } from "../lookups";
import { Query } from "../query";
import type { AuditRecord } from "../state";

/**
 * GET_FIXLESS_AUDITS, at both inferred paths (reference action 19): the customer audits (accept/reject, no fix) of
 * a task, or one audit by id. Audits are made with `POST /v1/task/:id/audit`.
 */
export function auditRoutes(app: FastifyInstance): void {
  const list = async (request: FastifyRequest): Promise<{ docs: AuditRecord[] }> => {
    const world = worldOf(request);
    const q = new Query(request.query);
    const id = q.string("id", 64);
    const taskId = q.string("task_id", 64);
    if (id === undefined && taskId === undefined) throw badRequest("Please include an id or task_id parameter.");
    let audits: AuditRecord[];
    if (taskId !== undefined) {
      audits = getTask(world, taskId).audits;
    } else {
      audits = [];
      for (const task of world.taskOrder) audits.push(...task.audits);
    }
    if (id !== undefined) {
      audits = audits.filter((a) => a.id === id);
      if (audits.length === 0) throw notFound(`Audit ${id} not found.`);
    }
    return { docs: audits };
  };
  app.get("/audits", list);
  app.get("/fixless_audits", list);
}
