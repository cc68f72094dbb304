import type { FastifyInstance } from "fastify";
import { worldOf } from "../auth";
import { badRequest, invalidParam } from "../errors";
import { getProject } from "../lookups";
import type { BatchRecord, World } from "../state";
import { compileCheck } from "../validate";
import { batchStatus, countTasks } from "./batches";

const emails = { type: "array", minItems: 1, maxItems: 500, items: { type: "string", minLength: 1, maxLength: 320 } };
const projects = { type: "array", maxItems: 500, items: { type: "string", minLength: 1, maxLength: 256 } };
const checkAdd = compileCheck<{ emails: string[]; projects: string[] }>({ type: "object", required: ["emails", "projects"], properties: { emails, projects } });
const checkRemove = compileCheck<{ emails: string[]; projects?: string[] }>({ type: "object", required: ["emails"], properties: { emails, projects } });
const checkPriorities = compileCheck<{ batches: { name: string }[] }>({
  type: "object",
  required: ["batches"],
  properties: { batches: { type: "array", maxItems: 10_000, items: { type: "object", required: ["name"], properties: { name: { type: "string" } } } } },
});

/** Studio: GET/ADD/REMOVE_STUDIO_ASSIGNMENTS, GET_STUDIO_BATCHES, SET/RESET_BATCH_PRIORITIES. */
export function studioRoutes(app: FastifyInstance): void {
  app.get("/studio/assignments", async (request) => assignmentsView(worldOf(request)));

  app.post("/studio/assignments/add", async (request) => {
    const world = worldOf(request);
    const body = checkAdd(request.body ?? {});
    checkActive(world, body.emails);
    for (const name of body.projects) getProject(world, name);
    for (const email of body.emails) {
      const current = world.assignments.get(email) ?? [];
      world.assignments.set(email, [...new Set([...current, ...body.projects])]);
    }
    return assignmentsView(world);
  });

  // Without `projects`, every project is unassigned (the product page's reading; the SDK always sends a list).
  app.post("/studio/assignments/remove", async (request) => {
    const world = worldOf(request);
    const body = checkRemove(request.body ?? {});
    checkActive(world, body.emails);
    for (const email of body.emails) {
      const remove = body.projects;
      const current = world.assignments.get(email) ?? [];
      world.assignments.set(email, remove === undefined ? [] : current.filter((p) => !remove.includes(p)));
    }
    return assignmentsView(world);
  });

  app.get("/studio/batches", async (request) => studioBatchesView(worldOf(request)));

  // The order must name every pending Studio batch, once.
  app.post("/studio/batches/set_priorities", async (request) => {
    const world = worldOf(request);
    const names = checkPriorities(request.body ?? {}).batches.map((b) => b.name);
    const pending = new Set(pendingStudioBatches(world).map((b) => b.name));
    const given = new Set(names);
    if (given.size !== names.length) throw badRequest("Each batch may appear only once in the priority order.");
    for (const name of names) if (!pending.has(name)) throw badRequest(`Batch ${name} is not a pending Studio batch.`);
    const missing = [...pending].filter((name) => !given.has(name));
    if (missing.length > 0) throw badRequest(`The priority order must include all pending Studio batches; missing: ${missing.join(", ")}.`);
    world.studioOrder = names;
    return studioBatchesView(world);
  });

  app.post("/studio/batches/reset_priorities", async (request) => {
    const world = worldOf(request);
    world.studioOrder = null;
    return studioBatchesView(world);
  });
}

/** Assignments need active teammates: not invited (pending) and not disabled. */
function checkActive(world: World, list: readonly string[]): void {
  list.forEach((email, i) => {
    const mate = world.team.get(email);
    if (!mate || mate.expiry !== undefined || mate.role === "disabled") throw invalidParam(`emails[${i}]`, "is not an active member of your team");
  });
}

/** Project assignments of every active teammate (invited and disabled ones are left out, as on Scale). */
function assignmentsView(world: World): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const mate of world.team.values()) {
    if (mate.expiry !== undefined || mate.role === "disabled") continue;
    out[mate.email] = world.assignments.get(mate.email) ?? [];
  }
  return out;
}

function pendingStudioBatches(world: World): BatchRecord[] {
  return [...world.batches.values()].filter((b) => world.projects.get(b.project)?.studio === true && batchStatus(world, b) !== "completed");
}

/** Default order: calibration batches first, then by creation date; a set order wins for the batches it names. */
function orderedStudioBatches(world: World): BatchRecord[] {
  const byDefault = pendingStudioBatches(world).sort(
    (a, b) => Number(b.calibration) - Number(a.calibration) || a.createdAt.localeCompare(b.createdAt),
  );
  const order = world.studioOrder;
  if (order === null) return byDefault;
  const rank = (b: BatchRecord): number => {
    const i = order.indexOf(b.name);
    return i === -1 ? order.length + byDefault.indexOf(b) : i;
  };
  return [...byDefault].sort((a, b) => rank(a) - rank(b));
}

function studioBatchesView(world: World): Record<string, unknown>[] {
  return orderedStudioBatches(world).map((batch, i) => {
    const counts = countTasks(world, batch);
    const project = world.projects.get(batch.project);
    return {
      id: batch.id,
      name: batch.name,
      projectId: project?.id ?? null,
      projectName: batch.project,
      batchType: batch.calibration ? "Calibration" : "Production",
      studioPriority: i + 1,
      total: counts.pending + counts.completed + counts.error + counts.canceled,
      completed: counts.completed,
      groups: [],
    };
  });
}
