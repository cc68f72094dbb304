import type { FastifyBaseLogger } from "fastify";
import type { TaskRecord, World } from "./state";
import type { Timers } from "./timers";
import { isEmail } from "./validate";

/** One delivery attempt of a task callback, as the control API reports it. */
export interface CallbackDelivery {
  readonly task_id: string;
  readonly url: string;
  /** 1 for the first attempt, 2 for the first retry, … */
  readonly attempt: number;
  /** The receiver's HTTP status, or null when it could not be reached or timed out. */
  readonly status: number | null;
  readonly succeeded: boolean;
  readonly error?: string;
  readonly at: string;
}

/**
 * Delays before each retry: 5 s doubling up to 2 h, 20 retries spread over about 21 hours, close to Scale's
 * documented "up to 20 times over 24 hours".
 */
export const DEFAULT_CALLBACK_RETRY_DELAYS_MS: readonly number[] = Array.from({ length: 20 }, (_, i) => Math.min(5_000 * 2 ** i, 7_200_000));

/** The most deliveries the control API keeps; older ones are dropped first. */
const LOG_LIMIT = 2_000;

export interface CallbackSenderDeps {
  /** The value of the `scale-callback-auth` header (read at each attempt: the control API may change it). */
  readonly authKey: () => string;
  readonly retryDelaysMs: readonly number[];
  readonly timeoutMs: number;
  readonly timers: Timers;
}

/**
 * POSTs `{task, response, task_id}` with the `scale-callback-auth` header to a task's `callback_url`, retrying
 * non-2xx answers and network failures on the retry schedule, and records the outcome as `callback_succeeded`.
 * An email address as callback target counts as delivered at once (Scale would send a mail).
 */
export class CallbackSender {
  private readonly deps: CallbackSenderDeps;
  private readonly deliveries: CallbackDelivery[] = [];
  private readonly inFlight = new Set<AbortController>();
  private logger: FastifyBaseLogger | undefined;

  constructor(deps: CallbackSenderDeps) {
    this.deps = deps;
  }

  /** The app's logger, once the app exists (failed attempts are logged at debug, with the host only). */
  setLogger(logger: FastifyBaseLogger): void {
    this.logger = logger;
  }

  /** Starts delivering the task's current state; the body is taken now and resent unchanged on retries. */
  send(world: World, task: TaskRecord, body: Record<string, unknown>): void {
    const url = task.callbackUrl;
    if (url === undefined || url === "") return;
    if (isEmail(url)) {
      this.record({ task_id: task.id, url, attempt: 1, status: null, succeeded: true, at: new Date().toISOString() });
      task.callbackSucceeded = true;
      return;
    }
    void this.attempt(world, task, url, JSON.stringify(body), 1);
  }

  /** Deliveries recorded so far, oldest first; only those of one task when `taskId` is given. */
  list(taskId?: string): CallbackDelivery[] {
    return taskId === undefined ? [...this.deliveries] : this.deliveries.filter((d) => d.task_id === taskId);
  }

  clear(): void {
    this.deliveries.length = 0;
  }

  /** Aborts attempts in flight; retries still scheduled are cancelled through the shared timers. */
  close(): void {
    for (const controller of this.inFlight) controller.abort();
  }

  private async attempt(world: World, task: TaskRecord, url: string, body: string, attempt: number): Promise<void> {
    const controller = new AbortController();
    this.inFlight.add(controller);
    const timeout = setTimeout(() => controller.abort(), this.deps.timeoutMs);
    timeout.unref();
    let status: number | null = null;
    let error: string | undefined;
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", "scale-callback-auth": this.deps.authKey() },
        body,
        redirect: "manual",
        signal: controller.signal,
      });
      status = response.status;
      await response.body?.cancel();
    } catch (err) {
      error = controller.signal.aborted ? "timed out or aborted" : (err as Error).message;
    } finally {
      clearTimeout(timeout);
      this.inFlight.delete(controller);
    }
    const succeeded = status !== null && status >= 200 && status < 300;
    task.callbackSucceeded = succeeded;
    this.record({ task_id: task.id, url, attempt, status, succeeded, ...(error === undefined ? {} : { error }), at: new Date().toISOString() });
    if (succeeded) return;
    const delay = this.deps.retryDelaysMs[attempt - 1];
    this.logger?.debug({ task_id: task.id, attempt, status, host: safeHost(url) }, "sandbox callback failed");
    if (delay === undefined) return;
    this.deps.timers.schedule(world, delay, () => void this.attempt(world, task, url, body, attempt + 1));
  }

  private record(delivery: CallbackDelivery): void {
    this.deliveries.push(delivery);
    if (this.deliveries.length > LOG_LIMIT) this.deliveries.splice(0, this.deliveries.length - LOG_LIMIT);
  }
}

function safeHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return "(invalid)";
  }
}
