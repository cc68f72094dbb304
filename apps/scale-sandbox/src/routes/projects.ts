import type { FastifyInstance } from "fastify";
import { worldOf } from "../auth";
import { badRequest, conflict } from "../errors";
import { objectId } from "../ids";
import { getProject } from "../lookups";
import { Query } from "../query";
import type { ParamVersion, ProjectRecord } from "../state";
import { TASK_TYPES, type TaskType } from "../task-types";
import { compileCheck, jsonBytes } from "../validate";

interface CreateProjectBody {
  type: TaskType;
  name: string;
  params?: Record<string, unknown> | null;
  rapid?: boolean;
  studio?: boolean;
}

const checkCreate = compileCheck<CreateProjectBody>({
  type: "object",
  required: ["type", "name"],
  properties: {
    type: { enum: [...TASK_TYPES] },
    name: { type: "string", minLength: 1, maxLength: 256 },
    params: { type: ["object", "null"] },
    rapid: { type: "boolean" },
    studio: { type: "boolean" },
  },
});

const checkSetParams = compileCheck<Record<string, unknown>>({
  type: "object",
  properties: { patch: { type: "boolean" }, params: { type: "object" }, instruction: { type: "string", maxLength: 100_000 }, priority: { type: "integer" } },
});

const choice: Record<string, unknown> = {
  anyOf: [
    { type: "string", minLength: 1, maxLength: 256 },
    {
      type: "object",
      required: ["choice"],
      properties: {
        choice: { type: "string", minLength: 1, maxLength: 256 },
        description: { type: "string", maxLength: 10_000 },
        subchoices: { type: "array", maxItems: 1000, items: { anyOf: [{ type: "string" }, { type: "object", required: ["choice"] }] } },
      },
    },
  ],
};
const checkOntology = compileCheck<{ ontology: unknown[]; name?: string }>({
  type: "object",
  required: ["ontology"],
  properties: { ontology: { type: "array", maxItems: 5000, items: choice }, name: { type: "string", maxLength: 256 } },
});

/** Project parameters are stored as given; this bounds them. */
const PARAMS_MAX_BYTES = 1024 * 1024;

/** Create project (beside the 40), LIST_PROJECTS, GET_PROJECT, SET_PROJECT_PARAMS, SET_PROJECT_ONTOLOGY. */
export function projectRoutes(app: FastifyInstance): void {
  app.post("/projects", async (request) => {
    const world = worldOf(request);
    const body = checkCreate(request.body ?? {});
    if (world.projects.has(body.name)) throw conflict(`Project with name ${body.name} already exists.`);
    const params = body.params ?? {};
    if (jsonBytes(params) > PARAMS_MAX_BYTES) throw badRequest("Project params are too large.");
    const now = new Date().toISOString();
    const project: ProjectRecord = {
      id: objectId(),
      name: body.name,
      type: body.type,
      createdAt: now,
      paramHistory: [{ ...params, version: 0, created_at: now }],
      ontologies: [],
      rapid: body.rapid === true,
      studio: body.studio === true,
      archived: false,
    };
    world.projects.set(project.name, project);
    return projectView(project);
  });

  // A bare array, as Scale answers; limit/offset are honoured when given (the product page names them).
  app.get("/projects", async (request) => {
    const world = worldOf(request);
    const q = new Query(request.query);
    const archived = q.bool("archived");
    const offset = q.int("offset", { min: 0 }) ?? 0;
    const limit = q.int("limit", { min: 1 });
    const all = [...world.projects.values()].filter((p) => archived === undefined || p.archived === archived);
    return all.slice(offset, limit === undefined ? undefined : offset + limit).map(projectView);
  });

  app.get<{ Params: { project_name: string } }>("/projects/:project_name", async (request) => {
    return projectView(getProject(worldOf(request), request.params.project_name));
  });

  // The SDK sends the parameters flat beside `patch`; a nested `params` object is accepted too.
  app.post<{ Params: { project_name: string } }>("/projects/:project_name/setParams", async (request) => {
    const project = getProject(worldOf(request), request.params.project_name);
    const body = checkSetParams(request.body ?? {});
    const { patch, params: nested, ...flat } = body;
    const given = { ...(nested as Record<string, unknown> | undefined), ...flat };
    const last = project.paramHistory.at(-1) as ParamVersion;
    const { version: _v, created_at: _c, ...previous } = last;
    const merged = patch === true ? { ...previous, ...given } : given;
    if (jsonBytes(merged) > PARAMS_MAX_BYTES) throw badRequest("Project params are too large.");
    project.paramHistory.push({ ...merged, version: last.version + 1, created_at: new Date().toISOString() });
    return projectView(project);
  });

  app.post<{ Params: { project_name: string } }>("/projects/:project_name/setOntology", async (request) => {
    const project = getProject(worldOf(request), request.params.project_name);
    const body = checkOntology(request.body ?? {});
    const duplicate = firstDuplicate(body.ontology);
    if (duplicate !== undefined) throw badRequest(`Ontology choices must be unique; "${duplicate}" appears more than once.`);
    project.ontologies.push({
      version: project.ontologies.length,
      name: body.name,
      ontology: body.ontology,
      created_at: new Date().toISOString(),
    });
    return projectView(project);
  });
}

/** A project as Scale answers it (reference §4.4), with its ontology versions. */
export function projectView(project: ProjectRecord): Record<string, unknown> {
  return {
    type: project.type,
    name: project.name,
    param_history: project.paramHistory,
    ontologies: project.ontologies.map((o) => (o.name === undefined ? { version: o.version, ontology: o.ontology, created_at: o.created_at } : o)),
    created_at: project.createdAt,
    rapid: project.rapid,
    studio: project.studio,
    archived: project.archived,
  };
}

/** Choices and subchoices must be unique across the whole ontology. */
function firstDuplicate(ontology: readonly unknown[]): string | undefined {
  const seen = new Set<string>();
  const walk = (items: readonly unknown[]): string | undefined => {
    for (const item of items) {
      const o = item as { choice?: unknown; subchoices?: unknown };
      const name = typeof item === "string" ? item : String(o.choice);
      if (seen.has(name)) return name;
      seen.add(name);
      if (typeof item !== "string" && Array.isArray(o.subchoices)) {
        const found = walk(o.subchoices);
        if (found !== undefined) return found;
      }
    }
    return undefined;
  };
  return walk(ontology);
}
