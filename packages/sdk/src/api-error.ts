import type { ErrorCode } from "./generated/errors.js";

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
