/**
 * The one catalogue of error codes the API answers with, each mapped once to its HTTP status and described for the
 * docs. Add a code here and nowhere else; test/unit keeps the catalogue, its docs and its types in step.
 */
export const ERROR_CATALOGUE = {
  VALIDATION_FAILED: { status: 400, description: "The request does not match its schema; `details` lists every problem." },
  BAD_REQUEST: { status: 400, description: "The request is malformed (e.g. not JSON)." },
  INVALID_CURSOR: { status: 400, description: "The pagination cursor is not one this API issued." },
  UNAUTHORIZED: { status: 401, description: "No credentials, or credentials that are not valid (unknown, malformed or revoked key)." },
  CSRF_REJECTED: { status: 403, description: "A console request authenticated by its session cookie changed state without the session's X-CSRF-Token header, or came from another origin." },
  NOT_FOUND: { status: 404, description: "No such resource, or it belongs to another workspace." },
  ROUTE_NOT_FOUND: { status: 404, description: "No such route." },
  METHOD_NOT_ALLOWED: { status: 405, description: "The route exists but not with this method." },
  CONFLICT: { status: 409, description: "The request conflicts with the resource's current state." },
  NAME_TAKEN: { status: 409, description: "Another resource of this workspace already has that name." },
  IDEMPOTENCY_KEY_REUSED: { status: 409, description: "The Idempotency-Key was used before with a different request." },
  CONNECTION_REQUIRED: { status: 409, description: "No connection was given and the workspace has no default connection for the integration." },
  CONNECTION_INVALID: { status: 409, description: "The connection's credentials were rejected by the upstream; replace them first." },
  CONNECTION_UNREADABLE: { status: 409, description: "The connection's stored credentials cannot be opened (its workspace keys were destroyed, or the ciphertext does not belong to it); connect again." },
  RUN_NOT_CANCELABLE: { status: 409, description: "The run has already started or ended." },
  RUN_NOT_RECONCILABLE: { status: 409, description: "Only a run whose outcome is unknown (status unknown) can be reconciled." },
  REQUEST_TIMEOUT: { status: 408, description: "The request (its headers or body) did not arrive in time." },
  URI_TOO_LONG: { status: 414, description: "A path segment is longer than any id or slug can be." },
  PAYLOAD_TOO_LARGE: { status: 413, description: "The request body is larger than this route accepts." },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, description: "The request body is not JSON." },
  CONNECTION_TEST_FAILED: { status: 422, description: "The upstream refused the credentials when they were checked." },
  HEADERS_TOO_LARGE: { status: 431, description: "The request headers are larger than the server accepts." },
  RATE_LIMITED: { status: 429, description: "Too many requests; retry after the time in the Retry-After header." },
  INTERNAL: { status: 500, description: "An unexpected error on our side; the request id identifies it in our logs." },
  UPSTREAM_UNREACHABLE: { status: 502, description: "The upstream could not be reached or answered with an error of its own." },
  SERVICE_UNAVAILABLE: { status: 503, description: "A dependency (database, Redis) is not available." },
  STREAM_LIMIT_REACHED: { status: 503, description: "This API process holds as many open event streams as it allows; retry after the Retry-After header, or poll GET /v1/runs/:id." },
  UPSTREAM_TIMEOUT: { status: 504, description: "The upstream did not answer in time." },
  TRIGGER_NOT_FOUND: { status: 404, description: "No trigger has that slug (GET /v1/triggers lists them), or the trigger never had that schema version." },
} as const satisfies Record<string, { status: number; description: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export const ERROR_CODES = Object.keys(ERROR_CATALOGUE) as ErrorCode[];

export function statusOf(code: ErrorCode): number {
  return ERROR_CATALOGUE[code].status;
}
