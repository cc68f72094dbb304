import type { FastifyInstance } from "fastify";
import type { SandboxControl } from "../control";
import { maskKey } from "../ids";
import { Query } from "../query";
import type { FaultRule } from "../faults";
import { compileCheck } from "../validate";

const checkKeyBody = compileCheck<{ key: string }>({ type: "object", required: ["key"], properties: { key: { type: "string", maxLength: 256 } } });
const checkComplete = compileCheck<{ response?: Record<string, unknown> }>({ type: "object", properties: { response: { type: "object" } } });
const checkError = compileCheck<{ message?: string; response?: Record<string, unknown> }>({
  type: "object",
  properties: { message: { type: "string", maxLength: 10_000 }, response: { type: "object" } },
});
const checkAccept = compileCheck<{ emails?: string[] }>({ type: "object", properties: { emails: { type: "array", maxItems: 1000, items: { type: "string" } } } });
const checkReset = compileCheck<{ key?: string }>({ type: "object", properties: { key: { type: "string" } } });
const checkSettings = compileCheck<{ callback_auth_key?: string; live_completion_delay_ms?: number | null }>({
  type: "object",
  additionalProperties: false,
  properties: { callback_auth_key: { type: "string" }, live_completion_delay_ms: { type: ["integer", "null"] } },
});

/**
 * The control API, under /sandbox (never /v1, and without Basic auth): what tests, benchmarks and the quickstart
 * use to steer the sandbox. Each route is a thin HTTP face of a SandboxControl method.
 */
export function controlRoutes(app: FastifyInstance, control: SandboxControl): void {
  app.get("/health", async () => ({ ok: true }));

  app.get("/keys", async () => ({ keys: control.keys().map((key) => ({ key: maskKey(key), mode: key.startsWith("test_") ? "test" : "live" })) }));

  app.post("/keys", async (request, reply) => {
    const { key } = checkKeyBody(request.body ?? {});
    const created = control.addKey(key);
    return reply.status(created ? 201 : 200).send({ key: maskKey(key), created });
  });

  app.delete<{ Params: { key: string } }>("/keys/:key", async (request, reply) => {
    return control.removeKey(request.params.key) ? reply.status(204).send() : reply.status(404).send({ status_code: 404, error: "Unknown key." });
  });

  app.get<{ Params: { key: string } }>("/keys/:key/faults", async (request) => ({ faults: control.faults(request.params.key) }));

  // The body is `{"faults": [rule, …]}` or the bare array of rules.
  app.put<{ Params: { key: string } }>("/keys/:key/faults", async (request) => {
    const body = request.body as { faults?: unknown } | unknown[] | undefined;
    const rules = (Array.isArray(body) ? body : (body?.faults ?? [])) as FaultRule[];
    control.setFaults(request.params.key, rules);
    return { faults: control.faults(request.params.key) };
  });

  app.delete<{ Params: { key: string } }>("/keys/:key/faults", async (request, reply) => {
    control.clearFaults(request.params.key);
    return reply.status(204).send();
  });

  app.delete("/faults", async (_request, reply) => {
    control.clearFaults();
    return reply.status(204).send();
  });

  app.get<{ Params: { key: string } }>("/keys/:key/requests", async (request) => control.requestCounts(request.params.key));

  app.post<{ Params: { key: string } }>("/keys/:key/team/accept", async (request) => {
    const { emails } = checkAccept(request.body ?? {});
    return { accepted: control.acceptInvitations(request.params.key, emails) };
  });

  app.post<{ Params: { key: string } }>("/keys/:key/quality/attempts", async (request) => {
    const body = request.body as { attempts?: unknown } | unknown[] | undefined;
    const attempts = (Array.isArray(body) ? body : (body?.attempts ?? [])) as Record<string, unknown>[];
    return { total: control.addQualityAttempts(request.params.key, attempts) };
  });

  app.post<{ Params: { task_id: string } }>("/tasks/:task_id/complete", async (request) => {
    const { response } = checkComplete(request.body ?? {});
    return control.completeTask(request.params.task_id, response);
  });

  app.post<{ Params: { task_id: string } }>("/tasks/:task_id/error", async (request) => {
    const { message, response } = checkError(request.body ?? {});
    return control.errorTask(request.params.task_id, message, response);
  });

  app.post("/reset", async (request, reply) => {
    const { key } = checkReset(request.body ?? {});
    control.reset(key);
    return reply.status(204).send();
  });

  app.get("/callbacks", async (request) => {
    const taskId = new Query(request.query).string("task_id", 64);
    return { deliveries: control.callbacks(taskId) };
  });

  app.get("/settings", async () => control.settings());
  app.put("/settings", async (request) => control.updateSettings(checkSettings(request.body ?? {})));
}
