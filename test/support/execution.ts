import { expect, vi } from "vitest";
import { TERMINAL_STATUSES } from "@nagent/runs";
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
