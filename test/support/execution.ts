import { randomBytes } from "node:crypto";
import { expect } from "vitest";
import type { FaultRule } from "../../apps/scale-sandbox/src/index";
import { bearer } from "./app";
import type { TestStack } from "./stack";

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
    retry_delay_ms: number | null;
  }[];
  started_at: string | null;
  finished_at: string | null;
  duration_ms: number | null;
}

export interface IsolatedWorkspace {
  readonly id: string;
  readonly apiKey: string;
  readonly connectionId: string;
  /** The Scale key of this workspace's connection: its own sandbox world, faults and request counts. */
  readonly scaleKey: string;
  /** Replaces the sandbox faults of this workspace's key. */
  faults(rules: readonly FaultRule[]): void;
  /** Upstream requests the sandbox received for this key, by route (`POST /v1/task/:type`), counted before faults. */
  requests(route: string): number;
}

/**
 * A workspace with its own Scale key (added to the sandbox) and a connection with it (to the sandbox, or to
 * `baseUrl`, e.g. a proxy in front of it), so that a test's faults, rate limits and created tasks touch nothing of
 * another test's.
 */
export async function isolatedWorkspace(s: TestStack, name: string, options: { mode?: "test" | "live"; baseUrl?: string } = {}): Promise<IsolatedWorkspace> {
  const scaleKey = `${options.mode ?? "test"}_${randomBytes(8).toString("hex")}`;
  s.sandbox.control.addKey(scaleKey);
  const ws = await s.createWorkspace(name);
  const res = await s.app.inject({
    method: "POST", url: "/v1/connections", headers: bearer(ws.apiKey),
    payload: { integration: "scale_ai", credentials: { api_key: scaleKey }, ...(options.baseUrl ? { base_url: options.baseUrl } : {}) },
  });
  expect(res.statusCode, res.body).toBe(201);
  return {
    ...ws,
    connectionId: (res.json() as { connection: { id: string } }).connection.id,
    scaleKey,
    faults: (rules) => s.sandbox.control.setFaults(scaleKey, rules),
    requests: (route) => s.sandbox.control.requestCounts(scaleKey).routes[route] ?? 0,
  };
}

/** `GET /v1/runs/:id` as the workspace sees it. */
export async function getRun(s: TestStack, apiKey: string, id: string): Promise<RunBody> {
  const res = await s.app.inject({ method: "GET", url: `/v1/runs/${id}`, headers: bearer(apiKey) });
  expect(res.statusCode, res.body).toBe(200);
  return (res.json() as { run: RunBody }).run;
}

const TERMINAL = new Set(["succeeded", "failed", "canceled"]);

/** Polls a run until it reaches a terminal status, and returns it. */
export async function waitForEnd(s: TestStack, apiKey: string, id: string, timeout = 20_000): Promise<RunBody> {
  await expect.poll(async () => (await getRun(s, apiKey, id)).status, { timeout, interval: 50 }).toSatisfy((status: string) => TERMINAL.has(status));
  return getRun(s, apiKey, id);
}

/** Starts an action in async mode and returns the run id. */
export async function executeAsync(s: TestStack, apiKey: string, slug: string, input: Record<string, unknown>, headers: Record<string, string> = {}): Promise<string> {
  const res = await s.execute(apiKey, slug, { input, mode: "async" }, headers);
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  return res.body.run_id as string;
}
