import { errorClassFor, NagentConnectionError, NagentTimeoutError, type ErrorBody } from "./errors.js";

/** How the client retries: attempts after the first, and the backoff between them. */
export interface RetryOptions {
  /** Retries after the first attempt (default 2; 0 turns retries off). */
  readonly maxRetries?: number;
  /** First backoff in ms, doubled each retry, with full jitter (default 500). */
  readonly baseDelayMs?: number;
  /** Longest backoff in ms (default 8000). */
  readonly maxDelayMs?: number;
  /** A Retry-After longer than this (ms) is not waited for: the call fails at once (default 60000). */
  readonly maxRetryAfterMs?: number;
}

/** Options of one call. */
export interface CallOptions {
  /** Aborts the call (and any wait between retries); the call rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /** Deadline of each attempt in ms (default: the client's `timeoutMs`). */
  readonly timeoutMs?: number;
  /** Overrides the client's retry policy for this call. */
  readonly retry?: RetryOptions;
  /** Extra headers. */
  readonly headers?: Record<string, string>;
  /** The answer is a stream (server-sent events): the timeout covers the wait for its headers only. */
  readonly stream?: boolean;
}

export interface TransportOptions {
  readonly apiKey?: string;
  /** Deadline of each attempt in ms (default 60000; a sync execute may take the server's 30 s bound). */
  readonly timeoutMs?: number;
  readonly retry?: RetryOptions;
  /** A fetch implementation (default: the global one). */
  readonly fetch?: (request: Request) => Promise<Response>;
  readonly headers?: Record<string, string>;
}

const DEFAULT_RETRY = { maxRetries: 2, baseDelayMs: 500, maxDelayMs: 8_000, maxRetryAfterMs: 60_000 } as const;
const RETRY_STATUSES = new Set([429, 500, 502, 503, 504]);
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS", "PUT", "DELETE"]);

/**
 * Sends one logical call, retrying it on 429, 5xx, network errors and attempt timeouts, with exponential backoff
 * and full jitter, honouring Retry-After. A POST or PATCH is retried on those only when it carries an
 * Idempotency-Key (the server then answers a repeat with the first attempt's result); without one, only when the
 * server refused it unprocessed (429) or the connection was refused, since a lost answer may hide a done request.
 * Answers outside 2xx become `NagentApiError` subclasses.
 */
export class Transport {
  readonly #options: TransportOptions;

  constructor(options: TransportOptions) {
    this.#options = options;
  }

  async send(request: Request, call: CallOptions = {}): Promise<Response> {
    const retry = { ...DEFAULT_RETRY, ...this.#options.retry, ...call.retry };
    const timeoutMs = call.timeoutMs ?? this.#options.timeoutMs ?? 60_000;
    const headers = new Headers(request.headers);
    for (const [name, value] of Object.entries({ ...this.#options.headers, ...call.headers })) headers.set(name, value);
    if (this.#options.apiKey !== undefined && !headers.has("authorization")) headers.set("authorization", `Bearer ${this.#options.apiKey}`);
    const idempotent = SAFE_METHODS.has(request.method) || headers.has("idempotency-key");
    // The body is read once and sent again on each attempt (a Request's body stream can be read only once).
    const body = request.body === null ? undefined : await request.arrayBuffer();
    const userSignal = call.signal;
    const fetchImpl = this.#options.fetch ?? ((r: Request) => fetch(r));

    for (let attempt = 0; ; attempt++) {
      userSignal?.throwIfAborted();
      const timeout = new AbortController();
      const timer = setTimeout(() => timeout.abort(new DOMException(`No answer within ${timeoutMs} ms`, "TimeoutError")), timeoutMs);
      const signal = userSignal ? AbortSignal.any([userSignal, timeout.signal]) : timeout.signal;
      const last = attempt >= retry.maxRetries;
      let response: Response;
      try {
        response = await fetchImpl(new Request(request.url, { method: request.method, headers, signal, ...(body !== undefined ? { body } : {}) }));
        // The deadline covers the whole answer, so the body is read here (and a broken one retried like a lost one);
        // a stream's deadline covers its headers only.
        if (!call.stream || !response.ok) response = new Response(response.status === 204 || response.status === 304 ? null : await response.arrayBuffer(), response);
      } catch (error) {
        if (userSignal?.aborted) throw userSignal.reason;
        const timedOut = timeout.signal.aborted;
        const refused = causeCode(error) === "ECONNREFUSED";
        if (last || !(idempotent || refused)) {
          const what = `${request.method} ${new URL(request.url).pathname}`;
          throw timedOut
            ? new NagentTimeoutError(`No answer within ${timeoutMs} ms (${what})`, { cause: error })
            : new NagentConnectionError(`Could not reach the API (${what}): ${(error as Error).message}`, { cause: error });
        }
        await sleep(backoff(attempt, retry), userSignal);
        continue;
      } finally {
        clearTimeout(timer);
      }
      if (response.ok || response.status < 400) return response;
      const retryAfterMs = parseRetryAfter(response.headers.get("retry-after"));
      const retryable = RETRY_STATUSES.has(response.status) && (idempotent || response.status === 429) && (retryAfterMs === undefined || retryAfterMs <= retry.maxRetryAfterMs);
      if (last || !retryable) throw await toApiError(response, retryAfterMs);
      await sleep(Math.max(retryAfterMs ?? 0, backoff(attempt, retry)), userSignal);
    }
  }
}

function backoff(attempt: number, retry: Required<RetryOptions>): number {
  return Math.random() * Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** attempt);
}

/** Retry-After as ms: delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === "") return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

async function toApiError(response: Response, retryAfterMs: number | undefined): Promise<Error> {
  const text = await response.text().catch(() => "");
  let body: Partial<ErrorBody> | undefined;
  try {
    body = JSON.parse(text) as Partial<ErrorBody>;
  } catch {
    body = undefined;
  }
  const code = typeof body?.error?.code === "string" ? body.error.code : `HTTP_${response.status}`;
  const message = typeof body?.error?.message === "string" ? body.error.message : response.statusText || "The API answered with an error.";
  const requestId = typeof body?.request_id === "string" ? body.request_id : (response.headers.get("x-request-id") ?? undefined);
  const ErrorClass = errorClassFor(code, response.status);
  return new ErrorClass({ status: response.status, code, message, details: body?.error?.details, requestId, retryAfterMs });
}

function causeCode(error: unknown): string | undefined {
  const cause = (error as { cause?: { code?: unknown } } | undefined)?.cause;
  return typeof cause?.code === "string" ? cause.code : undefined;
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
