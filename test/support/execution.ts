import { expect, vi } from "vitest";
import { uuidv7 } from "@nagent/db";
import { createRunStore, TERMINAL_STATUSES } from "@nagent/runs";
import { bearer, type TestApp } from "./app";
import type { TestStack } from "./stack";
import type { ConnectedWorkspace } from "./workspace";

/** A run as `GET /v1/runs/:id` shows it (the fields the execution tests read). */
export interface RunBody {
  id: string;
  status: string;
  status_reason: string | null;
  output: { data: any; error: { code: string; message: string; retryable: boolean; upstream_status?: number } | null; successful: boolean } | null;
  attempts_count: number;
  attempts: {
    number: number;
    started_at: string;
    finished_at: string | null;
    outcome: string | null;
    upstream_status: number | null;
    error_code: string | null;
    error_message: string | null;
    retry_delay_ms: number | null;
  }[];
  started_at: string | null;
  finished_at: string | null;
  duration_ms: number | null;
}

/** `GET /v1/runs/:id` as the workspace sees it. */
export async function getRun(s: Pick<TestApp, "app">, apiKey: string, id: string): Promise<RunBody> {
  const res = await s.app.inject({ method: "GET", url: `/v1/runs/${id}`, headers: bearer(apiKey) });
  expect(res.statusCode, res.body).toBe(200);
  return (res.json() as { run: RunBody }).run;
}

const TERMINAL = new Set<string>(TERMINAL_STATUSES);

/**
 * Polls a run until it reaches a terminal status (`unknown` included: only a reconciliation moves it on), and returns
 * it. `vi.waitFor` rather than `expect.poll`, so that set-up (beforeAll) can wait for a run too.
 */
export async function waitForEnd(s: Pick<TestApp, "app">, apiKey: string, id: string, timeout = 20_000): Promise<RunBody> {
  return vi.waitFor(async () => {
    const run = await getRun(s, apiKey, id);
    if (!TERMINAL.has(run.status)) throw new Error(`run ${id} is still ${run.status}`);
    return run;
  }, { timeout, interval: 50 });
}

/** Starts an action in async mode and returns the run id. */
export async function executeAsync(s: TestStack, apiKey: string, slug: string, input: Record<string, unknown>, headers: Record<string, string> = {}): Promise<string> {
  const res = await s.execute(apiKey, slug, { input, mode: "async" }, headers);
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  return res.body.run_id as string;
}

/**
 * Queued runs of `action`, one per input, written as the API writes them, then enqueued together through the app's
 * producer: the first add goes alone, the others wait for it and share the next one, so the first run gets a job of its
 * own and the rest one batch job (`batch-<ids[1]>`, up to NAGENT_RUN_BATCH_MAX). Answers the run ids, in input order.
 */
export async function enqueueTogether(t: Pick<TestApp, "db" | "infra">, ws: Pick<ConnectedWorkspace, "id" | "connectionId">, action: string, inputs: readonly Record<string, unknown>[]): Promise<string[]> {
  const store = createRunStore(t.db.pool);
  const ids: string[] = [];
  for (const input of inputs) {
    const id = uuidv7();
    const outcome = await store.insert({ id, workspaceId: ws.id, connectionId: ws.connectionId, integration: "scale_ai", action, schemaVersion: 1, input, idempotencyKey: null, requestHash: null });
    expect(outcome.kind).toBe("created");
    ids.push(id);
  }
  const producer = t.infra.producer;
  const priorities = await Promise.all(ids.map(() => producer.reserve(ws.id)));
  await Promise.all(ids.map((id, i) => producer.enqueue({ runId: id, workspaceId: ws.id, connectionId: ws.connectionId }, priorities[i]!)));
  return ids;
}
