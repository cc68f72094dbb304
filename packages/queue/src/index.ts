export * from "./catalogue";
export { createRedis } from "./redis";
export { createFairness, type Admission, type Fairness, type FairnessOptions } from "./fairness";
export { createRunProducer, type RunProducer } from "./producer";
