import { ERROR_STATUS, type ErrorCode } from "./generated/errors.js";

export { ERROR_STATUS, type ErrorCode };

/** The base of every error the SDK throws (an aborted call rethrows the signal's reason instead, as fetch does). */
export class NagentError extends Error {
  override readonly name: string = "NagentError";
}

/** The error body the API answers with: `{error:{code,message,details}, request_id}`. */
export interface ErrorBody {
  readonly error: { readonly code: string; readonly message: string; readonly details?: unknown };
  readonly request_id?: string;
}

/**
 * The API answered with an error. `code` is the API's stable code (see `ERROR_STATUS`); `requestId` names the request
 * in the API's logs (quote it in a support request). A subclass per kind of failure (`NotFoundError`,
 * `ConflictError`, …) lets callers `catch` by class; `NagentApiError.is(error, "NOT_FOUND")` narrows by code.
 */
export class NagentApiError extends NagentError {
  override readonly name: string = "NagentApiError";
  /** The stable code; a string outside `ErrorCode` only when the server is newer than this SDK. */
  readonly code: ErrorCode | (string & {});
  readonly status: number;
  readonly details: unknown;
  readonly requestId: string | undefined;
  /** From a Retry-After header, when the server sent one. */
  readonly retryAfterMs: number | undefined;

  constructor(init: { status: number; code: string; message: string; details?: unknown; requestId?: string | undefined; retryAfterMs?: number | undefined }) {
    super(`${init.code}: ${init.message}${init.requestId ? ` (request ${init.requestId})` : ""}`);
    this.status = init.status;
    this.code = init.code;
    this.details = init.details;
    this.requestId = init.requestId;
    this.retryAfterMs = init.retryAfterMs;
  }

  /** Whether `error` is an API error with this code (narrows `code`). */
  static is<C extends ErrorCode>(error: unknown, code: C): error is NagentApiError & { readonly code: C } {
    return error instanceof NagentApiError && error.code === code;
  }
}

/** 400: the request does not match its schema (`details` lists every problem), is malformed, or has a bad cursor. */
export class BadRequestError extends NagentApiError {
  override readonly name: string = "BadRequestError";
}
/** 401: no API key, or one that is unknown or revoked. */
export class AuthenticationError extends NagentApiError {
  override readonly name: string = "AuthenticationError";
}
/** 403: refused (console requests without their CSRF token). */
export class PermissionError extends NagentApiError {
  override readonly name: string = "PermissionError";
}
/** 404: no such resource, or it belongs to another workspace; or no such route. */
export class NotFoundError extends NagentApiError {
  override readonly name: string = "NotFoundError";
}
/** 409: the request conflicts with the resource's state (name taken, Idempotency-Key reused, connection invalid, …). */
export class ConflictError extends NagentApiError {
  override readonly name: string = "ConflictError";
}
/** 422: the upstream refused the credentials when they were checked. */
export class UpstreamCheckError extends NagentApiError {
  override readonly name: string = "UpstreamCheckError";
}
/** 429: too many requests (the SDK has already retried, honouring Retry-After). */
export class RateLimitError extends NagentApiError {
  override readonly name: string = "RateLimitError";
}
/** Other 4xx: request too large, timed out, unsupported media type, method not allowed, headers too large. */
export class RequestError extends NagentApiError {
  override readonly name: string = "RequestError";
}
/** 5xx: a failure on the API's side or its dependencies' (the SDK has already retried where that was safe). */
export class ServerError extends NagentApiError {
  override readonly name: string = "ServerError";
}

type ApiErrorClass = new (init: ConstructorParameters<typeof NagentApiError>[0]) => NagentApiError;

/**
 * The class of each stable code. Keyed by the generated `ErrorCode`, so a code added to the server's catalogue fails
 * this file's type check after `npm run sdk:generate` until it is given its class.
 */
export const ERROR_CLASSES = {
  VALIDATION_FAILED: BadRequestError,
  BAD_REQUEST: BadRequestError,
  INVALID_CURSOR: BadRequestError,
  UNAUTHORIZED: AuthenticationError,
  CSRF_REJECTED: PermissionError,
  NOT_FOUND: NotFoundError,
  ROUTE_NOT_FOUND: NotFoundError,
  TRIGGER_NOT_FOUND: NotFoundError,
  METHOD_NOT_ALLOWED: RequestError,
  CONFLICT: ConflictError,
  NAME_TAKEN: ConflictError,
  IDEMPOTENCY_KEY_REUSED: ConflictError,
  CONNECTION_REQUIRED: ConflictError,
  CONNECTION_INVALID: ConflictError,
  CONNECTION_UNREADABLE: ConflictError,
  RUN_NOT_CANCELABLE: ConflictError,
  RUN_NOT_RECONCILABLE: ConflictError,
  REQUEST_TIMEOUT: RequestError,
  URI_TOO_LONG: RequestError,
  PAYLOAD_TOO_LARGE: RequestError,
  UNSUPPORTED_MEDIA_TYPE: RequestError,
  CONNECTION_TEST_FAILED: UpstreamCheckError,
  HEADERS_TOO_LARGE: RequestError,
  RATE_LIMITED: RateLimitError,
  INTERNAL: ServerError,
  UPSTREAM_UNREACHABLE: ServerError,
  SERVICE_UNAVAILABLE: ServerError,
  STREAM_LIMIT_REACHED: ServerError,
  UPSTREAM_TIMEOUT: ServerError,
} as const satisfies Record<ErrorCode, ApiErrorClass>;

/** The class for an answer: by code, or by status for a code this SDK does not know. */
export function errorClassFor(code: string, status: number): ApiErrorClass {
  if (Object.hasOwn(ERROR_CLASSES, code)) return ERROR_CLASSES[code as ErrorCode];
  if (status === 400) return BadRequestError;
  if (status === 401) return AuthenticationError;
  if (status === 403) return PermissionError;
  if (status === 404) return NotFoundError;
  if (status === 409) return ConflictError;
  if (status === 422) return UpstreamCheckError;
  if (status === 429) return RateLimitError;
  return status >= 500 ? ServerError : RequestError;
}

/** The API could not be reached, or the connection broke before an answer (after the SDK's retries). */
export class NagentConnectionError extends NagentError {
  override readonly name: string = "NagentConnectionError";
}

/** No answer within the call's timeout (after the SDK's retries). */
export class NagentTimeoutError extends NagentError {
  override readonly name: string = "NagentTimeoutError";
}

/** A webhook delivery failed verification: bad or missing signature headers, wrong signature, or too old. */
export class WebhookVerificationError extends NagentError {
  override readonly name: string = "WebhookVerificationError";
}
