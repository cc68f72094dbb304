export { Nagent, type NagentOptions, type ExecuteOptions } from "./client.js";
export type { CallOptions, RetryOptions } from "./transport.js";
export { Paginator, type Page } from "./pagination.js";
export {
  NagentError, NagentApiError, BadRequestError, AuthenticationError, PermissionError, NotFoundError, ConflictError, UpstreamCheckError,
  RateLimitError, RequestError, ServerError, NagentConnectionError, NagentTimeoutError, WebhookVerificationError, ERROR_CLASSES, ERROR_STATUS,
  type ErrorCode,
} from "./errors.js";
export { verifyWebhook, createWebhookHandler, type WebhookEvent, type TriggerEvent, type WebhookHandlers, type HeadersLike, type VerifyOptions } from "./webhooks.js";
export { ACTION_SLUGS } from "./generated/actions.js";
export { TRIGGER_SLUGS } from "./generated/triggers.js";
export type * from "./types.js";
