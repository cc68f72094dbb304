import { randomBytes } from "node:crypto";
import { createRedis } from "@nagent/queue";
import { createRunner } from "@nagent/runner";
import { startSandbox, type RunningSandbox } from "../../apps/scale-sandbox/src/index";
import { startWorkers, type WorkerDeps } from "../../apps/worker/src/worker";
import type { TriggerWorkerOptions } from "../../apps/worker/src/triggers";
import { bearer, createTestApp, type TestApp } from "./app";
import { freePort } from "./net";
import { connectedWorkspace, type ConnectedWorkspace, type ConnectedWorkspaceOptions } from "./workspace";

/** Trigger deliveries retried within a second (production spreads its retries over about three days), so delivery tests run in seconds. */
export const FAST_TRIGGER_RETRIES: TriggerWorkerOptions = { schedule: [100, 200, 300, 400], disableAfterMs: 60_000, sweepEveryMs: 500, sweepOverdueMs: 1_000 };

export interface TestStack extends TestApp {
  readonly sandbox: RunningSandbox;
  /** A `test_…` key the sandbox accepts (tasks complete at once). */
  readonly scaleKey: string;
  /** A `live_…` key the sandbox accepts (tasks stay pending). */
  readonly liveKey: string;
  readonly workers: Awaited<ReturnType<typeof startWorkers>>;
  /** With `listen`: the API's loopback URL, which is also its public URL (inbound callback URLs point there). */
  readonly baseUrl: string | undefined;
  execute(apiKey: string, slug: string, body: Record<string, unknown>, headers?: Record<string, string>): Promise<{ status: number; body: any; headers: Record<string, unknown> }>;
}

export interface TestStackOptions {
  readonly env?: Record<string, string>;
  readonly worker?: Partial<Pick<WorkerDeps, "backoff" | "sweep" | "triggers" | "probe" | "pacing">>;
  /** Also listen on a loopback port that is the API's public URL (for Scale's callbacks and HTTP clients). */
  readonly listen?: boolean;
}

/**
 * The whole platform in one test process: the API (inject), the worker (BullMQ, its own queue prefix) and the Scale AI
 * sandbox on a loopback port; a fresh database. Options tune retries so tests run in milliseconds.
 */
export async function createTestStack(options: TestStackOptions = {}): Promise<TestStack> {
  const scaleKey = `test_${randomBytes(8).toString("hex")}`;
  const liveKey = `live_${randomBytes(8).toString("hex")}`;
  const sandbox = await startSandbox({ keys: [scaleKey, liveKey] });
  const port = options.listen ? await freePort() : undefined;
  const baseUrl = port === undefined ? undefined : `http://127.0.0.1:${port}`;
  const t = await createTestApp({
    env: { NAGENT_SCALE_BASE_URL: sandbox.url, NAGENT_UPSTREAM_TIMEOUT_MS: "3000", NAGENT_SYNC_TIMEOUT_MS: "15000", ...(baseUrl ? { NAGENT_PUBLIC_URL: baseUrl } : {}), ...(options.env ?? {}) },
  });
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

  if (port !== undefined) await t.app.listen({ port, host: "127.0.0.1" });

  return {
    ...t,
    sandbox, scaleKey, liveKey, workers, execute, baseUrl,
    async close() {
      await workers.close();
      await runner.close();
      redis.disconnect();
      await t.close();
      await sandbox.close();
    },
  };
}

/**
 * A stack and one workspace connected to its sandbox (with the projects its tests need): the set-up of the tests that
 * execute actions. `workspace.name` defaults to "Acme".
 */
export async function createStackWithWorkspace(options: TestStackOptions & { workspace?: ConnectedWorkspaceOptions & { name?: string } } = {}): Promise<{ s: TestStack; ws: ConnectedWorkspace }> {
  const { workspace: { name = "Acme", ...workspace } = {}, ...stackOptions } = options;
  const s = await createTestStack(stackOptions);
  try {
    return { s, ws: await connectedWorkspace(s, name, workspace) };
  } catch (error) {
    await s.close();
    throw error;
  }
}
