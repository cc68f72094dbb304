import createFetchClient, { type Client } from "openapi-fetch";
import type { paths } from "./generated/openapi.js";
import type { Paginator } from "./pagination.js";
import { ok, paged, Resource, type Context } from "./context.js";
import { Actions, Runs } from "./runs.js";
import { Events, Subscriptions, Triggers } from "./triggers.js";
import { Transport, type CallOptions, type RetryOptions } from "./transport.js";
import type {
  ApiKey, Connection, ConnectionEvent, ConnectionEventsQuery, ConnectionTest, CreateConnection, CreatedApiKey, CreatedWorkspace, Integration,
  IntegrationSummary, UpdateConnection, UpdateWorkspaceSettings, WorkspaceSettings,
} from "./types.js";

export type { ExecuteOptions } from "./runs.js";

export interface NagentOptions {
  /** The API's base URL, e.g. `http://127.0.0.1:3000` (no `/v1`). */
  readonly baseUrl: string;
  /** A workspace API key (`nk_…`), or the admin token for `workspaces.create`. */
  readonly apiKey?: string | undefined;
  /** Deadline of each attempt in ms (default 60000). */
  readonly timeoutMs?: number;
  /** Retries of 429, 5xx and network failures (default: 2 retries, backoff from 500 ms, Retry-After honoured). */
  readonly retry?: RetryOptions;
  /** A fetch implementation (default: the global one). */
  readonly fetch?: (request: Request) => Promise<Response>;
  /** Headers sent with every request. */
  readonly headers?: Record<string, string>;
}

/**
 * The Nagent Integrations API client. Every action's input and output is typed from the schemas the server validates
 * with: `client.actions.execute("SCALE_AI_CREATE_BATCH", { name, project })` checks the input at compile time and
 * resolves to the envelope with `data` typed by the action's output schema.
 */
export class Nagent {
  /** The typed REST client (openapi-fetch) over every route of `/openapi.json`, with this client's retries and auth. */
  readonly raw: Client<paths>;
  readonly workspaces: Workspaces;
  readonly apiKeys: ApiKeys;
  readonly connections: Connections;
  readonly integrations: Integrations;
  readonly actions: Actions;
  readonly runs: Runs;
  /** The calling workspace: `workspace.settings.get()` / `.update({ output_check: "strict" })`. */
  readonly workspace: Workspace;
  readonly triggers: Triggers;
  readonly subscriptions: Subscriptions;
  readonly events: Events;
  readonly #transport: Transport;
  readonly #baseUrl: string;

  constructor(options: NagentOptions) {
    this.#baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.#transport = new Transport({
      ...(options.apiKey !== undefined ? { apiKey: options.apiKey } : {}),
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
      ...(options.retry !== undefined ? { retry: options.retry } : {}),
      ...(options.fetch !== undefined ? { fetch: options.fetch } : {}),
      ...(options.headers !== undefined ? { headers: options.headers } : {}),
    });
    this.raw = createFetchClient<paths>({ baseUrl: this.#baseUrl, fetch: (request) => this.#transport.send(request) });
    const ctx: Context = { raw: this.raw, send: (request, call) => this.#transport.send(request, call), via: (call) => via(this.#transport, call), baseUrl: this.#baseUrl };
    this.workspaces = new Workspaces(ctx);
    this.apiKeys = new ApiKeys(ctx);
    this.connections = new Connections(ctx);
    this.integrations = new Integrations(ctx);
    this.runs = new Runs(ctx);
    this.actions = new Actions(ctx, this.runs);
    this.workspace = new Workspace(ctx);
    this.triggers = new Triggers(ctx);
    this.subscriptions = new Subscriptions(ctx);
    this.events = new Events(ctx);
  }
}

function via(transport: Transport, call: CallOptions | undefined) {
  return { fetch: (request: Request) => transport.send(request, call) };
}

class Workspaces extends Resource {
  /** Creates a workspace (admin token). The answer carries its first API key, shown this once. */
  async create(body: { name: string }, call?: CallOptions): Promise<CreatedWorkspace> {
    return ok(await this.ctx.raw.POST("/v1/workspaces", { body, ...this.ctx.via(call) }));
  }
}

class Workspace {
  readonly settings: WorkspaceSettingsResource;

  constructor(ctx: Context) {
    this.settings = new WorkspaceSettingsResource(ctx);
  }
}

class WorkspaceSettingsResource extends Resource {
  async get(call?: CallOptions): Promise<WorkspaceSettings> {
    return ok(await this.ctx.raw.GET("/v1/workspace/settings", this.ctx.via(call))).settings;
  }

  /** Changes the settings given (the others stay); takes effect for run attempts that start afterwards. */
  async update(body: UpdateWorkspaceSettings, call?: CallOptions): Promise<WorkspaceSettings> {
    return ok(await this.ctx.raw.PATCH("/v1/workspace/settings", { body, ...this.ctx.via(call) })).settings;
  }
}

class ApiKeys extends Resource {
  /** Creates an API key of this workspace; its secret is in the answer, this once. */
  async create(body: { name: string }, call?: CallOptions): Promise<CreatedApiKey> {
    return ok(await this.ctx.raw.POST("/v1/api-keys", { body, ...this.ctx.via(call) }));
  }

  async list(call?: CallOptions): Promise<ApiKey[]> {
    return ok(await this.ctx.raw.GET("/v1/api-keys", this.ctx.via(call))).api_keys;
  }

  async revoke(id: string, call?: CallOptions): Promise<void> {
    await this.ctx.raw.DELETE("/v1/api-keys/{id}", { params: { path: { id } }, ...this.ctx.via(call) });
  }
}

class Connections extends Resource {
  /** Connects an integration; the API checks the key with the upstream first (422 `UpstreamCheckError` if refused). */
  async create(body: CreateConnection, call?: CallOptions): Promise<Connection> {
    return ok(await this.ctx.raw.POST("/v1/connections", { body, ...this.ctx.via(call) })).connection;
  }

  async list(query: { integration?: string } = {}, call?: CallOptions): Promise<Connection[]> {
    return ok(await this.ctx.raw.GET("/v1/connections", { params: { query }, ...this.ctx.via(call) })).connections;
  }

  async get(id: string, call?: CallOptions): Promise<Connection> {
    return ok(await this.ctx.raw.GET("/v1/connections/{id}", { params: { path: { id } }, ...this.ctx.via(call) })).connection;
  }

  async update(id: string, body: UpdateConnection, call?: CallOptions): Promise<Connection> {
    return ok(await this.ctx.raw.PATCH("/v1/connections/{id}", { params: { path: { id } }, body, ...this.ctx.via(call) })).connection;
  }

  async delete(id: string, call?: CallOptions): Promise<void> {
    await this.ctx.raw.DELETE("/v1/connections/{id}", { params: { path: { id } }, ...this.ctx.via(call) });
  }

  /** Checks the stored credentials with the upstream again. */
  async test(id: string, call?: CallOptions): Promise<ConnectionTest> {
    return ok(await this.ctx.raw.POST("/v1/connections/{id}/test", { params: { path: { id } }, ...this.ctx.via(call) }));
  }

  /** The connection's status changes (active, degraded, invalid) with their reasons, newest first, paged lazily. */
  events(id: string, query: ConnectionEventsQuery = {}, call?: CallOptions): Paginator<ConnectionEvent> {
    return paged(query, async (q) => ok(await this.ctx.raw.GET("/v1/connections/{id}/events", { params: { path: { id }, query: q }, ...this.ctx.via(call) })), (page) => page.events);
  }
}

class Integrations extends Resource {
  async list(call?: CallOptions): Promise<IntegrationSummary[]> {
    return ok(await this.ctx.raw.GET("/v1/integrations", this.ctx.via(call))).integrations;
  }

  async get(slug: string, call?: CallOptions): Promise<Integration> {
    return ok(await this.ctx.raw.GET("/v1/integrations/{slug}", { params: { path: { slug } }, ...this.ctx.via(call) })).integration;
  }
}

