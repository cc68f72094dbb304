import { randomBytes } from "node:crypto";
import { createRedis } from "@nagent/queue";
import { createRunner } from "@nagent/runner";
import { startSandbox, type RunningSandbox } from "../../apps/scale-sandbox/src/index";
import { startWorkers, type WorkerDeps } from "../../apps/worker/src/worker";
import { bearer, createTestApp, type TestApp } from "./app";

export interface TestStack extends TestApp {
  readonly sandbox: RunningSandbox;
  /** A `test_…` key the sandbox accepts (tasks complete at once). */
  readonly scaleKey: string;
  /** A `live_…` key the sandbox accepts (tasks stay pending). */
  readonly liveKey: string;
  readonly workers: Awaited<ReturnType<typeof startWorkers>>;
  /** A workspace with a Scale AI connection to the sandbox, as its default. */
  connectedWorkspace(name?: string, key?: string): Promise<{ id: string; apiKey: string; connectionId: string }>;
  execute(apiKey: string, slug: string, body: Record<string, unknown>, headers?: Record<string, string>): Promise<{ status: number; body: any; headers: Record<string, unknown> }>;
}

/**
 * The whole platform in one test process: the API (inject), the worker (BullMQ, its own queue prefix) and the Scale AI
 * sandbox on a loopback port; a fresh database. Options tune retries so tests run in milliseconds.
 */
export async function createTestStack(options: { env?: Record<string, string>; worker?: Partial<Pick<WorkerDeps, "backoff" | "sweep" | "triggers" | "probe" | "pacing">> } = {}): Promise<TestStack> {
  const scaleKey = `test_${randomBytes(8).toString("hex")}`;
  const liveKey = `live_${randomBytes(8).toString("hex")}`;
  const sandbox = await startSandbox({ keys: [scaleKey, liveKey] });
  const t = await createTestApp({ env: { NAGENT_SCALE_BASE_URL: sandbox.url, NAGENT_UPSTREAM_TIMEOUT_MS: "3000", NAGENT_SYNC_TIMEOUT_MS: "15000", ...(options.env ?? {}) } });
  const redis = createRedis(t.config.redisUrl, "worker");
  const runner = createRunner({ timeoutMs: t.config.upstreamTimeoutMs, egress: t.config.egress });
  const workers = await startWorkers({
    config: t.config, pool: t.db.pool, redis, registry: t.infra.registry, vault: t.infra.vault, runner, logger: t.logger,
    backoff: options.worker?.backoff ?? { baseMs: 20, capMs: 200 },
    ...(options.worker?.sweep ? { sweep: options.worker.sweep } : {}),
    ...(options.worker?.triggers ? { triggers: options.worker.triggers } : {}),
    ...(options.worker?.probe ? { probe: options.worker.probe } : {}),
    ...(options.worker?.pacing ? { pacing: options.worker.pacing } : {}),
  });

  const execute: TestStack["execute"] = async (apiKey, slug, body, headers = {}) => {
    const res = await t.app.inject({ method: "POST", url: `/v1/actions/${slug}/execute`, headers: { ...bearer(apiKey), ...headers }, payload: body });
    return { status: res.statusCode, body: res.json(), headers: res.headers };
  };

  return {
    ...t,
    sandbox, scaleKey, liveKey, workers, execute,
    async connectedWorkspace(name = "Acme", key = scaleKey) {
      const ws = await t.createWorkspace(name);
      const res = await t.app.inject({ method: "POST", url: "/v1/connections", headers: bearer(ws.apiKey), payload: { integration: "scale_ai", credentials: { api_key: key } } });
      if (res.statusCode !== 201) throw new Error(`connect: ${res.statusCode} ${res.body}`);
      return { ...ws, connectionId: (res.json() as { connection: { id: string } }).connection.id };
    },
    async close() {
      await workers.close();
      await runner.close();
      redis.disconnect();
      await t.close();
      await sandbox.close();
    },
  };
}
