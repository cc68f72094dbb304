import { NagentError } from "./errors.js";
import type { Paginator } from "./pagination.js";
import { parseEventStream } from "./sse.js";
import { ok, paged, seg, Resource, type Context } from "./context.js";
import type { CallOptions } from "./transport.js";
import type {
  ActionDetail, ActionInput, ActionOutput, ActionSlug, ActionSummary, ActionsQuery, Envelope, ExecuteResult, QueuedRun, Reconcile, Run, RunEvent,
  RunSummary, RunsQuery, ValidationResult,
} from "./types.js";

export interface ExecuteOptions extends CallOptions {
  /** The connection to run with (default: the workspace's default connection of the action's integration). */
  readonly connectionId?: string;
  /**
   * Same key + same input within 24 h returns the same run. The SDK generates one per call when none is given and
   * sends it on each of its retries, so a retried call never runs an action twice.
   */
  readonly idempotencyKey?: string;
}

export class Actions {
  constructor(private readonly ctx: Context, private readonly runs: Runs) {}

  /** The catalogue of actions, paged lazily (`for await (const action of client.actions.list({ q: "batch" }))`). */
  list(query: ActionsQuery = {}, call?: CallOptions): Paginator<ActionSummary> {
    return paged(query, async (q) => ok(await this.ctx.raw.GET("/v1/actions", { params: { query: q }, ...this.ctx.via(call) })), (page) => page.actions);
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

export class Runs extends Resource {
  /** Runs of the workspace, newest first, paged lazily: `for await (const run of client.runs.list({ status: "failed" }))`. */
  list(query: RunsQuery = {}, call?: CallOptions): Paginator<RunSummary> {
    return paged(query, async (q) => ok(await this.ctx.raw.GET("/v1/runs", { params: { query: q }, ...this.ctx.via(call) })), (page) => page.runs);
  }

  async get(id: string, call?: CallOptions): Promise<Run> {
    return ok(await this.ctx.raw.GET("/v1/runs/{id}", { params: { path: { id } }, ...this.ctx.via(call) })).run;
  }

  /** Cancels a run that has not started (409 `RUN_NOT_CANCELABLE` otherwise). */
  async cancel(id: string, call?: CallOptions): Promise<Run> {
    return ok(await this.ctx.raw.POST("/v1/runs/{id}/cancel", { params: { path: { id } }, ...this.ctx.via(call) })).run;
  }

  /**
   * Records the outcome of an `unknown` run (a write whose outcome could not be established), as checked with the
   * upstream: `{status: "succeeded", data}` (checked against the action's output schema) or `{status: "failed",
   * error?}`. 409 `RUN_NOT_RECONCILABLE` for a run that is not `unknown`.
   */
  async reconcile(id: string, body: Reconcile, call?: CallOptions): Promise<Run> {
    return ok(await this.ctx.raw.POST("/v1/runs/{id}/reconcile", { params: { path: { id } }, body, ...this.ctx.via(call) })).run;
  }

  /**
   * The run's states as they happen (server-sent events): the state at connection time, then each change, ending
   * after the terminal state (which carries `output`). An `unknown` run (a write whose outcome could not be
   * established) carries its `output` (`UPSTREAM_OUTCOME_UNKNOWN`) and the stream stays open until `reconcile`
   * records the outcome, sent as one more event. A stream that breaks before the end is resumed with
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

  /** Waits for the run to end (following its events) and resolves to its envelope (for an `unknown` run, its first one). */
  async wait<T = unknown>(id: string, call: CallOptions = {}): Promise<Envelope<T>> {
    for await (const event of this.events<T>(id, call)) if (event.output !== undefined) return event.output;
    // The stream was resumed after the run had ended (204): read the run.
    const run = await this.get(id, call);
    return run.output as Envelope<T>;
  }
}
