export * from "./types";
export { createRunStore, type RunStore } from "./store";
export { IDEMPOTENCY_WINDOW_HOURS } from "./store-reads";
/** The hot statements the store's batchers run, for a caller that holds its own connection (a transaction). */
export { insertRuns, claimRuns, finishRuns, type InsertItem, type FinishItem, type ClaimRow } from "./hot-path";
export { createRunEventHub, type RunEventHub, type RunWatch } from "./events";
export { compactJson, jsonBytes, STORED_INPUT_MAX_BYTES, STORED_OUTPUT_MAX_BYTES } from "./compact";
export { canonicalJson, requestHash } from "./request-hash";
export {
  createRunLister, pageSql, encodeRunCursor, decodeRunCursor, InvalidRunCursorError, InvalidRunQueryError, RUN_STATUSES,
  LIST_RUNS_DEFAULT_LIMIT, LIST_RUNS_MAX_LIMIT, type RunLister, type ListRunsQuery, type RunSummaryRow, type RunPage,
} from "./list-runs";
export { deleteExpiredRuns, type DeleteExpiredRunsOptions, type DeleteExpiredRunsResult } from "./delete-expired-runs";
