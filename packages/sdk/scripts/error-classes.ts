/**
 * The SDK's error classes, one row each: `generate.ts` writes src/generated/error-classes.ts from this table, a
 * class per row (so `instanceof`, the class names and their TSDoc are what a hand-written class would give) and
 * the status → class map `errorClassFor` falls back on for a code this SDK does not know.
 */
export interface ErrorClassRow {
  readonly name: string;
  /** `NagentApiError`: the API answered with an error; `NagentError`: no usable answer. */
  readonly base: "NagentApiError" | "NagentError";
  /** The HTTP status this class stands for when the code is unknown (none: by code only, or not an API answer). */
  readonly status?: number;
  readonly doc: string;
}

export const ERROR_CLASS_ROWS: readonly ErrorClassRow[] = [
  { name: "BadRequestError", base: "NagentApiError", status: 400, doc: "400: the request does not match its schema (`details` lists every problem), is malformed, or has a bad cursor." },
  { name: "AuthenticationError", base: "NagentApiError", status: 401, doc: "401: no API key, or one that is unknown or revoked." },
  { name: "PermissionError", base: "NagentApiError", status: 403, doc: "403: refused (console requests without their CSRF token)." },
  { name: "NotFoundError", base: "NagentApiError", status: 404, doc: "404: no such resource, or it belongs to another workspace; or no such route." },
  { name: "ConflictError", base: "NagentApiError", status: 409, doc: "409: the request conflicts with the resource's state (name taken, Idempotency-Key reused, connection invalid, …)." },
  { name: "UpstreamCheckError", base: "NagentApiError", status: 422, doc: "422: the upstream refused the credentials when they were checked." },
  { name: "RateLimitError", base: "NagentApiError", status: 429, doc: "429: too many requests (the SDK has already retried, honouring Retry-After)." },
  { name: "RequestError", base: "NagentApiError", doc: "Other 4xx: request too large, timed out, unsupported media type, method not allowed, headers too large." },
  { name: "ServerError", base: "NagentApiError", doc: "5xx: a failure on the API's side or its dependencies' (the SDK has already retried where that was safe)." },
  { name: "NagentConnectionError", base: "NagentError", doc: "The API could not be reached, or the connection broke before an answer (after the SDK's retries)." },
  { name: "NagentTimeoutError", base: "NagentError", doc: "No answer within the call's timeout (after the SDK's retries)." },
  { name: "WebhookVerificationError", base: "NagentError", doc: "A webhook delivery failed verification: bad or missing signature headers, wrong signature, or too old." },
];
