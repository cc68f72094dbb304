/**
 * Turns an upstream answer or a transport failure into the envelope's error: a stable `code`, whether a retry may
 * succeed, and the upstream's status and own message where it gave them.
 */
export type UpstreamErrorCode =
  | "UPSTREAM_BAD_REQUEST"
  | "UPSTREAM_UNAUTHORIZED"
  | "UPSTREAM_NOT_ENABLED"
  | "UPSTREAM_FORBIDDEN"
  | "UPSTREAM_NOT_FOUND"
  | "UPSTREAM_CONFLICT"
  | "UPSTREAM_RATE_LIMITED"
  | "UPSTREAM_UNAVAILABLE"
  | "UPSTREAM_TIMEOUT"
  | "UPSTREAM_INVALID_RESPONSE"
  | "UPSTREAM_RESPONSE_TOO_LARGE"
  | "EGRESS_BLOCKED";

export interface EnvelopeError {
  readonly code: string;
  readonly message: string;
  readonly retryable: boolean;
  readonly upstream_status?: number;
}

/** Longest upstream message kept in an envelope. */
const MAX_MESSAGE = 1000;

export function classifyStatus(status: number, message: string | undefined): EnvelopeError {
  const m = (text: string) => truncate(message || text);
  if (status === 400 || status === 422 || status === 413) return { code: "UPSTREAM_BAD_REQUEST", message: m("The upstream refused the request."), retryable: false, upstream_status: status };
  if (status === 401) return { code: "UPSTREAM_UNAUTHORIZED", message: m("The upstream refused the credentials."), retryable: false, upstream_status: status };
  if (status === 402) return { code: "UPSTREAM_NOT_ENABLED", message: m("This feature is not enabled for the account."), retryable: false, upstream_status: status };
  if (status === 403) return { code: "UPSTREAM_FORBIDDEN", message: m("The upstream forbade the request."), retryable: false, upstream_status: status };
  if (status === 404) return { code: "UPSTREAM_NOT_FOUND", message: m("The upstream found no such resource."), retryable: false, upstream_status: status };
  if (status === 409) return { code: "UPSTREAM_CONFLICT", message: m("The upstream reported a conflict."), retryable: false, upstream_status: status };
  if (status === 429) return { code: "UPSTREAM_RATE_LIMITED", message: m("The upstream is rate limiting."), retryable: true, upstream_status: status };
  if (status === 408 || status === 504) return { code: "UPSTREAM_TIMEOUT", message: m("The upstream timed out."), retryable: true, upstream_status: status };
  if (status >= 500) return { code: "UPSTREAM_UNAVAILABLE", message: m("The upstream is unavailable."), retryable: true, upstream_status: status };
  return { code: "UPSTREAM_BAD_REQUEST", message: m(`The upstream answered ${status}.`), retryable: false, upstream_status: status };
}

/** A transport failure (no HTTP answer): timeouts and broken connections may succeed on a retry. */
export function classifyTransportError(error: unknown): EnvelopeError {
  const code = errorCode(error);
  if (code === "EGRESS_BLOCKED") return { code: "EGRESS_BLOCKED", message: "The upstream address is not allowed by this deployment's egress policy.", retryable: false };
  if (code === "UND_ERR_HEADERS_TIMEOUT" || code === "UND_ERR_BODY_TIMEOUT" || code === "UND_ERR_CONNECT_TIMEOUT" || code === "ABORT_ERR" || code === "TimeoutError" || code === "ETIMEDOUT") {
    return { code: "UPSTREAM_TIMEOUT", message: "The upstream did not answer in time.", retryable: true };
  }
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") return { code: "UPSTREAM_UNAVAILABLE", message: "The upstream host name does not resolve.", retryable: code === "EAI_AGAIN" };
  const what = code === "ECONNREFUSED" ? "refused the connection" : code === "ECONNRESET" || code === "UND_ERR_SOCKET" ? "dropped the connection" : "could not be reached";
  return { code: "UPSTREAM_UNAVAILABLE", message: `The upstream ${what}.`, retryable: true };
}

/**
 * Whether a transport failure may have happened after the request reached the upstream, so that the upstream may
 * have acted on it: a timeout or a dropped connection may (the request was sent, its answer lost); a refused
 * connection, a name that does not resolve or a connect timeout may not (nothing was sent).
 */
export function transportMayHaveReachedUpstream(error: unknown): boolean {
  const code = errorCode(error);
  return !(code === "EGRESS_BLOCKED" || code === "ECONNREFUSED" || code === "ENOTFOUND" || code === "EAI_AGAIN" || code === "UND_ERR_CONNECT_TIMEOUT");
}

/** Answers after which the upstream may still have acted: a gateway that timed out waiting for it. */
export function statusMayHaveReachedUpstream(status: number): boolean {
  return status === 504;
}

function errorCode(error: unknown): string | undefined {
  let e: unknown = error;
  for (let depth = 0; depth < 4 && e && typeof e === "object"; depth++) {
    // AbortSignal.timeout() rejects with a DOMException named TimeoutError (whose numeric `code` means nothing here).
    const name = (e as { name?: unknown }).name;
    if (name === "TimeoutError") return "TimeoutError";
    const candidate = (e as { code?: unknown }).code;
    if (typeof candidate === "string") return candidate;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Scale's error body is `{"status_code", "error"}`; other upstreams use `message` or `detail`. */
export function upstreamMessage(body: unknown): string | undefined {
  if (typeof body === "string") return body.trim() ? truncate(body.trim()) : undefined;
  if (!body || typeof body !== "object") return undefined;
  const b = body as Record<string, unknown>;
  for (const key of ["error", "message", "detail"]) {
    const v = b[key];
    if (typeof v === "string" && v.trim()) return truncate(v.trim());
    if (v && typeof v === "object" && typeof (v as { message?: unknown }).message === "string") return truncate((v as { message: string }).message);
  }
  return undefined;
}

function truncate(text: string): string {
  return text.length > MAX_MESSAGE ? `${text.slice(0, MAX_MESSAGE - 1)}…` : text;
}

/** Retry-After as milliseconds (delta-seconds or an HTTP date), bounded to an hour; undefined when absent or bad. */
export function parseRetryAfter(value: string | string[] | undefined, now: number = Date.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return undefined;
  const seconds = Number(v);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(v) - now;
  if (!Number.isFinite(ms) || ms < 0) return undefined;
  return Math.min(ms, 3_600_000);
}
