import { type ErrorCode, statusOf } from "./catalogue";

/**
 * An error meant for the API's caller: a stable `code` from the catalogue, a message a person understands, and
 * optional structured `details`. Messages and details must never hold a secret, a full outbound URL or internals.
 */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly details: unknown;
  readonly statusCode: number;
  /** Extra response headers (e.g. Retry-After for RATE_LIMITED). */
  readonly headers: Readonly<Record<string, string>>;

  constructor(code: ErrorCode, message: string, options: { details?: unknown; cause?: unknown; headers?: Record<string, string> } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "AppError";
    this.code = code;
    this.details = options.details ?? null;
    this.statusCode = statusOf(code);
    this.headers = options.headers ?? {};
  }
}

export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError;
}

export const notFound = (what: string): AppError => new AppError("NOT_FOUND", `${what} not found.`);
