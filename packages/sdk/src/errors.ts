import { NagentApiError, NagentError, type ErrorBody } from "./api-error.js";
import { ERROR_STATUS, type ErrorCode } from "./generated/errors.js";
import {
  AuthenticationError, BadRequestError, ConflictError, ERROR_CLASS_BY_STATUS, NagentConnectionError, NagentTimeoutError, NotFoundError, PermissionError,
  RateLimitError, RequestError, ServerError, UpstreamCheckError, WebhookVerificationError,
} from "./generated/error-classes.js";

export { ERROR_STATUS, NagentApiError, NagentError, type ErrorBody, type ErrorCode };
// The classes by kind of failure are generated from one table (scripts/error-classes.ts), with their TSDoc.
export {
  AuthenticationError, BadRequestError, ConflictError, NagentConnectionError, NagentTimeoutError, NotFoundError, PermissionError, RateLimitError, RequestError,
  ServerError, UpstreamCheckError, WebhookVerificationError,
};

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
  if (Object.hasOwn(ERROR_CLASS_BY_STATUS, status)) return ERROR_CLASS_BY_STATUS[status as keyof typeof ERROR_CLASS_BY_STATUS];
  return status >= 500 ? ServerError : RequestError;
}
