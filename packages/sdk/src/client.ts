import createFetchClient, { type Client } from "openapi-fetch";
import type { paths } from "./generated/openapi.js";
import { NagentError } from "./errors.js";
import { Paginator } from "./pagination.js";
import { parseEventStream } from "./sse.js";
import { Transport, type CallOptions, type RetryOptions } from "./transport.js";
import type {
  ActionDetail, ActionInput, ActionOutput, ActionSlug, ActionSummary, ActionsQuery, ApiKey, Connection, ConnectionTest, CreateConnection,
  CreatedApiKey, CreatedWorkspace, Envelope, ExecuteResult, Integration, IntegrationSummary, QueuedRun, Run, RunEvent, RunSummary, RunsQuery,
  UpdateConnection, ValidationResult,
} from "./types.js";

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

export interface ExecuteOptions extends CallOptions {
  /** The connection to run with (default: the workspace's default connection of the action's integration). */
  readonly connectionId?: string;
  /**
   * Same key + same input within 24 h returns the same run. The SDK generates one per call when none is given and
   * sends it on each of its retries, so a retried call never runs an action twice.
   */
  readonly idempotencyKey?: string;
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
  }
}

interface Context {
  readonly raw: Client<paths>;
  readonly baseUrl: string;
  send(request: Request, call?: CallOptions): Promise<Response>;
  /** openapi-fetch options that send one call through the transport with its options. */
  via(call: CallOptions | undefined): { fetch: (request: Request) => Promise<Response> };
}

function via(transport: Transport, call: CallOptions | undefined) {
  return { fetch: (request: Request) => transport.send(request, call) };
}

/** The answer's data; the transport has already turned every non-2xx answer into an error. */
function ok<T>(result: { data?: T; response: Response }): T {
  if (result.data === undefined) throw new NagentError(`The API answered ${result.response.status} with no body.`);
  return result.data;
}

const seg = encodeURIComponent;

class Workspaces {
  constructor(private readonly ctx: Context) {}

  /** Creates a workspace (admin token). The answer carries its first API key, shown this once. */
  async create(body: { name: string }, call?: CallOptions): Promise<CreatedWorkspace> {
    return ok(await this.ctx.raw.POST("/v1/workspaces", { body, ...this.ctx.via(call) }));
  }
}

class ApiKeys {
  constructor(private readonly ctx: Context) {}

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

class Connections {
  constructor(private readonly ctx: Context) {}

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
}

class Integrations {
  constructor(private readonly ctx: Context) {}

  async list(call?: CallOptions): Promise<IntegrationSummary[]> {
    return ok(await this.ctx.raw.GET("/v1/integrations", this.ctx.via(call))).integrations;
  }

  async get(slug: string, call?: CallOptions): Promise<Integration> {
    return ok(await this.ctx.raw.GET("/v1/integrations/{slug}", { params: { path: { slug } }, ...this.ctx.via(call) })).integration;
  }
}

class Actions {
  constructor(private readonly ctx: Context, private readonly runs: Runs) {}

  /** The catalogue of actions, paged lazily (`for await (const action of client.actions.list({ q: "batch" }))`). */
  list(query: ActionsQuery = {}, call?: CallOptions): Paginator<ActionSummary> {
    return new Paginator(async (cursor) => {
      const page = ok(await this.ctx.raw.GET("/v1/actions", { params: { query: { ...query, ...(cursor !== undefined ? { cursor } : {}) } }, ...this.ctx.via(call) }));
      return { items: page.actions, nextCursor: page.next_cursor };
    });
  }

  /** An action with its input and output JSON Schemas. */
  async get<S extends ActionSlug>(slug: S, call?: CallOptions): Promise<ActionDetail<S>> {
    return ok(await this.ctx.raw.GET("/v1/actions/{slug}", { params: { path: { slug } }, ...this.ctx.via(call) })).action as ActionDetail<S>;
  }

  /** Checks an input against the action's schema without running it (200 either way; problems as JSON pointers). */
  async validate<S extends ActionSlug>(slug: S, input: ActionInput<S>, call?: CallOptions): Promise<ValidationResult> {
    return ok(await this.ctx.raw.POST("/v1/actions/{slug}/validate", { params: { path: { slug } }, body: { input: input as Record<string, unknown> }, ...this.ctx.via(call) }));
  }

  /**
   * Runs an action and resolves to its envelope, `data` typed by the action's output schema. When the run outlasts
   * the server's sync bound (202), follows the run's events until it ends. A bad input rejects with
   * `BadRequestError` (`VALIDATION_FAILED`) before anything runs.
   */
  async execute<S extends ActionSlug>(slug: S, input: ActionInput<S>, options: ExecuteOptions = {}): Promise<ExecuteResult<S>> {
    const answer = await this.#post(slug, input, "sync", options);
    if ("successful" in answer) return answer as ExecuteResult<S>;
    const { connectionId: _connection, idempotencyKey: _key, ...call } = options;
    const output = await this.runs.wait<ActionOutput<S>>(answer.run_id, call);
    return { run_id: answer.run_id, ...output };
  }

  /** Queues a run and resolves at once with its id (follow it with `runs.events`, `runs.wait` or `runs.get`). */
  async enqueue<S extends ActionSlug>(slug: S, input: ActionInput<S>, options: ExecuteOptions = {}): Promise<QueuedRun> {
    const answer = await this.#post(slug, input, "async", options);
    return "successful" in answer ? { run_id: answer.run_id, status: answer.successful ? "succeeded" : "failed" } : answer;
  }

  async #post(slug: string, input: unknown, mode: "sync" | "async", options: ExecuteOptions) {
    const { connectionId, idempotencyKey, ...call } = options;
    const key = idempotencyKey ?? globalThis.crypto.randomUUID();
    const body = { input: input as Record<string, unknown>, mode, ...(connectionId !== undefined ? { connection_id: connectionId } : {}) };
    return ok(await this.ctx.raw.POST("/v1/actions/{slug}/execute", {
      params: { path: { slug } }, body, ...this.ctx.via({ ...call, headers: { ...call.headers, "idempotency-key": key } }),
    }));
  }
}

class Runs {
  constructor(private readonly ctx: Context) {}

  /** Runs of the workspace, newest first, paged lazily: `for await (const run of client.runs.list({ status: "failed" }))`. */
  list(query: RunsQuery = {}, call?: CallOptions): Paginator<RunSummary> {
    return new Paginator(async (cursor) => {
      const page = ok(await this.ctx.raw.GET("/v1/runs", { params: { query: { ...query, ...(cursor !== undefined ? { cursor } : {}) } }, ...this.ctx.via(call) }));
      return { items: page.runs, nextCursor: page.next_cursor };
    });
  }

  async get(id: string, call?: CallOptions): Promise<Run> {
    return ok(await this.ctx.raw.GET("/v1/runs/{id}", { params: { path: { id } }, ...this.ctx.via(call) })).run;
  }

  /** Cancels a run that has not started (409 `RUN_NOT_CANCELABLE` otherwise). */
  async cancel(id: string, call?: CallOptions): Promise<Run> {
    return ok(await this.ctx.raw.POST("/v1/runs/{id}/cancel", { params: { path: { id } }, ...this.ctx.via(call) })).run;
  }

  /**
   * The run's states as they happen (server-sent events): the state at connection time, then each change, ending
   * after the terminal state (which carries `output`). A stream that breaks before the end is resumed with
   * Last-Event-ID (up to `maxReconnects` times in a row, default 5). Break out of the loop to stop following.
   */
  async *events<T = unknown>(id: string, options: CallOptions & { maxReconnects?: number } = {}): AsyncGenerator<RunEvent<T>, void, undefined> {
    const { maxReconnects = 5, ...call } = options;
    let lastEventId: string | undefined;
    let failures = 0;
    for (;;) {
      const headers: Record<string, string> = { ...call.headers, accept: "text/event-stream", ...(lastEventId !== undefined ? { "last-event-id": lastEventId } : {}) };
      const response = await this.ctx.send(new Request(`${this.ctx.baseUrl}/v1/runs/${seg(id)}/events`), { ...call, headers, stream: true });
      // 204: resumed the stream of a run that has ended; nothing more will come.
      if (response.status === 204 || response.body === null) return;
      let ended = false;
      try {
        for await (const frame of parseEventStream(response.body)) {
          if (frame.event !== "run") continue;
          const event = JSON.parse(frame.data) as RunEvent<T>;
          lastEventId = frame.id;
          failures = 0;
          yield event;
          if (event.output !== undefined) ended = true;
        }
      } catch (error) {
        if (call.signal?.aborted) throw call.signal.reason;
        if (++failures > maxReconnects) throw new NagentError(`The event stream of run ${id} broke: ${(error as Error).message}`, { cause: error });
        continue;
      }
      if (ended) return;
      if (++failures > maxReconnects) throw new NagentError(`The event stream of run ${id} ended before the run did.`);
    }
  }

  /** Waits for the run to end (following its events) and resolves to its envelope. */
  async wait<T = unknown>(id: string, call: CallOptions = {}): Promise<Envelope<T>> {
    for await (const event of this.events<T>(id, call)) if (event.output !== undefined) return event.output;
    // The stream was resumed after the run had ended (204): read the run.
    const run = await this.get(id, call);
    return run.output as Envelope<T>;
  }
}
