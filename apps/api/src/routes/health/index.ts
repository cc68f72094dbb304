import { Type } from "typebox";
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { AppDeps } from "../../deps";

const CHECK_TIMEOUT_MS = 1_000;
const Status = Type.Union([Type.Literal("up"), Type.Literal("down")]);
const Readiness = Type.Object({
  status: Type.Union([Type.Literal("ok"), Type.Literal("unavailable")]),
  checks: Type.Object({ postgres: Status, redis: Status }),
});

/** Liveness (the process answers) and readiness (PostgreSQL and Redis answer within a second each). */
export const healthRoutes: FastifyPluginAsyncTypebox<{ deps: AppDeps }> = async (app, { deps }) => {
  app.get("/healthz", {
    config: { auth: "public" },
    schema: { tags: ["health"], summary: "Liveness", response: { 200: Type.Object({ status: Type.Literal("ok") }) } },
  }, async () => ({ status: "ok" as const }));

  app.get("/readyz", {
    config: { auth: "public" },
    schema: { tags: ["health"], summary: "Readiness: PostgreSQL and Redis answer", response: { 200: Readiness, 503: Readiness } },
  }, async (request, reply) => {
    const [postgres, redis] = await Promise.all([
      probe(() => deps.db.pool.query("SELECT 1")),
      probe(() => deps.redis.ping()),
    ]);
    const ok = postgres === "up" && redis === "up";
    if (!ok) request.log.warn({ postgres, redis }, "not ready");
    return reply.status(ok ? 200 : 503).send({ status: ok ? "ok" : "unavailable", checks: { postgres, redis } });
  });
};

async function probe(check: () => Promise<unknown>): Promise<"up" | "down"> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("timeout")), CHECK_TIMEOUT_MS);
  });
  try {
    await Promise.race([check(), timeout]);
    return "up";
  } catch {
    return "down";
  } finally {
    clearTimeout(timer);
  }
}
