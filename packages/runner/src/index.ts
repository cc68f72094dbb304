export { createRunner, authHeaders, type Runner, type RunnerOptions, type CallResult, type ExecuteCall } from "./runner";
export { buildRequest, type UpstreamRequest, type FileInput } from "./build-request";
export { classifyStatus, classifyTransportError, transportMayHaveReachedUpstream, statusMayHaveReachedUpstream, parseRetryAfter, upstreamMessage, type EnvelopeError, type UpstreamErrorCode } from "./classify";
export { retryDelayMs, DEFAULT_BACKOFF, type BackoffOptions } from "./backoff";
export { checkOutboundUrl, createEgressLookup, isNonPublicAddress, type EgressPolicy, type UrlCheck } from "./egress";
export { readJsonPointer } from "./json-pointer";
