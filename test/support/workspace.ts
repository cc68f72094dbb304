import { randomBytes } from "node:crypto";
import { expect } from "vitest";
import type { FaultRule, RunningSandbox } from "../../apps/scale-sandbox/src/index";
import { bearer, type TestApp } from "./app";
import { createProject, scaleRequest } from "./scale";

/** What a connected workspace needs: an app to call and the sandbox its connection points at. */
export type WorkspaceHost = Pick<TestApp, "app" | "createWorkspace"> & { readonly sandbox: RunningSandbox };

export interface ConnectedWorkspace {
  readonly id: string;
  readonly apiKey: string;
  readonly connectionId: string;
  /** The connection as `POST /v1/connections` answered it (201), for tests that check the answer. */
  readonly connection: { id: string; inbound_url?: string; [field: string]: unknown };
  /** The Scale key of this workspace's connection: its sandbox world, faults and request counts. */
  readonly scaleKey: string;
  /** Replaces the sandbox faults of this workspace's key. */
  faults(rules: readonly FaultRule[]): void;
  /** Upstream requests the sandbox received for this key, by route (`POST /v1/task/:type`), counted before faults. */
  requests(route: string): number;
  /** A direct call to the sandbox with this workspace's key (as a user would with curl). */
  scale(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
  /** Creates a project in this workspace's sandbox world (`imageannotation` unless told). */
  createProject(name: string, type?: string): Promise<void>;
}

export interface ConnectedWorkspaceOptions {
  /** `test` keys complete tasks at once, `live` keys leave them pending. Ignored when `scaleKey` is given. */
  readonly mode?: "test" | "live";
  /**
   * A Scale key to share (e.g. the stack's `scaleKey`, when several workspaces of a test must see one sandbox world).
   * By default the workspace gets a key of its own, so a test's faults, rate limits and tasks touch no other test's.
   */
  readonly scaleKey?: string;
  /** The connection's base URL, e.g. a proxy in front of the sandbox. */
  readonly baseUrl?: string;
  /** The key Scale signs its callbacks with (triggers). */
  readonly callbackAuthKey?: string;
  /** Further fields of the `POST /v1/connections` body, e.g. `{ events: "poll" }`. */
  readonly fields?: Record<string, unknown>;
  /** Sandbox projects (`imageannotation`) to create before the workspace is handed over. */
  readonly projects?: readonly string[];
}

/**
 * A workspace with a Scale AI connection to the sandbox, made as a user would: the workspace through the admin route,
 * its Scale key accepted by the sandbox, the connection through `POST /v1/connections` (which must answer 201), and
 * the projects its tests need.
 */
export async function connectedWorkspace(host: WorkspaceHost, name = "Acme", options: ConnectedWorkspaceOptions = {}): Promise<ConnectedWorkspace> {
  const scaleKey = options.scaleKey ?? `${options.mode ?? "test"}_${randomBytes(8).toString("hex")}`;
  host.sandbox.control.addKey(scaleKey); // idempotent: a shared key keeps its world
  const ws = await host.createWorkspace(name);
  const credentials = { api_key: scaleKey, ...(options.callbackAuthKey ? { callback_auth_key: options.callbackAuthKey } : {}) };
  const res = await host.app.inject({
    method: "POST", url: "/v1/connections", headers: bearer(ws.apiKey),
    payload: { integration: "scale_ai", credentials, ...(options.baseUrl ? { base_url: options.baseUrl } : {}), ...(options.fields ?? {}) },
  });
  expect(res.statusCode, res.body).toBe(201);
  const connection = (res.json() as { connection: ConnectedWorkspace["connection"] }).connection;
  const workspace: ConnectedWorkspace = {
    ...ws,
    connectionId: connection.id,
    connection,
    scaleKey,
    faults: (rules) => host.sandbox.control.setFaults(scaleKey, rules),
    requests: (route) => host.sandbox.control.requestCounts(scaleKey).routes[route] ?? 0,
    scale: (method, path, body) => scaleRequest(host.sandbox.url, scaleKey, method, path, body),
    createProject: (project, type) => createProject(host.sandbox.url, scaleKey, project, type),
  };
  for (const project of options.projects ?? []) await workspace.createProject(project);
  return workspace;
}
