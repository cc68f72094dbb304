export * from "./catalogue";
export { createRedis } from "./redis";
export { createFairness, DEFAULT_PACING, type Admission, type Fairness, type FairnessOptions, type PaceLimits, type PaceOutcome, type PacingOptions, type WaitReason } from "./fairness";
export { createRunProducer, type RunProducer } from "./producer";
