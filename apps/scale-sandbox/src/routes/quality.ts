import type { FastifyInstance } from "fastify";
import { worldOf } from "../auth";
import { badRequest, invalidParam } from "../errors";
import { Query } from "../query";

/**
 * GET_QUALITY_LABELERS: labelers' training attempts, filtered by labeler emails and/or quality task ids (repeated
 * keys or comma-joined), cursor-paged. Scale documents no record shape: the sandbox answers the attempts seeded
 * through `POST /sandbox/keys/:key/quality/attempts`, as given.
 */
export function qualityRoutes(app: FastifyInstance): void {
  app.get("/quality/labelers", async (request) => {
    const world = worldOf(request);
    const q = new Query(request.query);
    const emails = q.commaList("labeler_emails");
    const taskIds = q.commaList("quality_task_ids");
    if (emails === undefined && taskIds === undefined) throw badRequest("Please include labeler_emails or quality_task_ids.");
    const limit = q.int("limit", { min: 1, max: 100 }) ?? 100;
    const token = q.string("next_token", 64);
    let start = 0;
    if (token !== undefined) {
      const at = world.qualityAttempts.findIndex((a) => a["id"] === token);
      if (at === -1) throw invalidParam("next_token", "is invalid");
      start = at + 1;
    }
    const docs: Record<string, unknown>[] = [];
    let more = false;
    for (let i = start; i < world.qualityAttempts.length; i++) {
      const attempt = world.qualityAttempts[i] as Record<string, unknown>;
      if (emails !== undefined && !emails.includes(String(attempt["labeler_email"]))) continue;
      if (taskIds !== undefined && !taskIds.includes(String(attempt["quality_task_id"]))) continue;
      if (docs.length === limit) {
        more = true;
        break;
      }
      docs.push(attempt);
    }
    return { docs, next_token: more ? String(docs.at(-1)?.["id"]) : null };
  });
}
