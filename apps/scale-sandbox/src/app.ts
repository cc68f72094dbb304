import Fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify";
import { registerAuth } from "./auth";
import type { SandboxControl } from "./control";
import type { SandboxDeps } from "./deps";
import { registerErrorHandling } from "./errors";
import { auditRoutes } from "./routes/audits";
import { batchRoutes } from "./routes/batches";
import { controlRoutes } from "./routes/control";
import { fileRoutes } from "./routes/files";
import { projectRoutes } from "./routes/projects";
import { qualityRoutes } from "./routes/quality";
import { studioRoutes } from "./routes/studio";
import { taskCreateRoutes } from "./routes/tasks-create";
import { taskLifecycleRoutes } from "./routes/tasks-lifecycle";
import { taskReadRoutes } from "./routes/tasks-read";
import { taskUpdateRoutes } from "./routes/tasks-update";
import { teamRoutes } from "./routes/teams";

export interface BuildSandboxOptions {
  /** A pino logger, or a level for Fastify's own; none (the default) logs nothing. */
  readonly logger?: FastifyBaseLogger | { readonly level: string };
}

/** JSON bodies above this answer 413 (lidar tasks may list thousands of frames). Uploads have their own limit. */
export const JSON_BODY_LIMIT_BYTES = 16 * 1024 * 1024;

/**
 * The sandbox as a Fastify instance, ready for `listen()` or `inject()`: Scale's v1 API under /v1 (Basic auth,
 * one world per key, faults applied) and the control API under /sandbox. No process concerns here.
 */
export async function buildSandboxApp(deps: SandboxDeps, control: SandboxControl, options: BuildSandboxOptions = {}): Promise<FastifyInstance> {
  const logger = options.logger;
  const app = Fastify({
    ...(logger === undefined ? { logger: false } : "child" in logger ? { loggerInstance: logger } : { logger: { level: logger.level } }),
    bodyLimit: JSON_BODY_LIMIT_BYTES,
  });
  deps.callbacks.setLogger(app.log);
  registerErrorHandling(app);

  await app.register(
    async (v1) => {
      registerAuth(v1, deps);
      taskCreateRoutes(v1, deps);
      taskReadRoutes(v1);
      taskUpdateRoutes(v1);
      taskLifecycleRoutes(v1, deps);
      batchRoutes(v1);
      projectRoutes(v1);
      teamRoutes(v1);
      studioRoutes(v1);
      qualityRoutes(v1);
      auditRoutes(v1);
      await fileRoutes(v1, deps);
    },
    { prefix: "/v1" },
  );
  await app.register(async (sandbox) => controlRoutes(sandbox, control), { prefix: "/sandbox" });

  // Hanging requests and added latencies would hold close() open: end them first.
  app.addHook("preClose", async () => deps.faults.close());
  app.addHook("onClose", async () => {
    deps.timers.close();
    deps.callbacks.close();
  });
  return app;
}
