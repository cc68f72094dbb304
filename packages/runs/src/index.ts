export * from "./types";
export { createRunStore, IDEMPOTENCY_WINDOW_HOURS, type RunStore, type RunRow, type AttemptRow, type ClaimedRun, type NewRun, type AttemptOutcome, type StuckRun } from "./store";
export { createRunEventHub, type RunEventHub } from "./events";
export { compactJson, jsonBytes, STORED_INPUT_MAX_BYTES, STORED_OUTPUT_MAX_BYTES } from "./compact";
export { canonicalJson, requestHash } from "./request-hash";
