export * from "./catalogue";
export { createRedis } from "./redis";
export { createFairness, type Admission, type Fairness, type FairnessOptions, type WaitReason } from "./fairness";
export { DEFAULT_PACING, type PaceLimits, type PaceOutcome, type PacingOptions } from "./pacing";
export { createRunProducer, DEFAULT_RUN_BATCH_MAX, type RunProducer } from "./producer";
/** The batch lane of a run's steps (a sync execute's run: "express"), for the run store's statements too. */
export type { Lane } from "@nagent/batch";
