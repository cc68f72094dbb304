export { createRunAttempts, type AttemptDeps, type AttemptOutcome, type FinishedRun, type RunAttempts } from "./attempt";
export { createConnectionHealth, type ConnectionHealth } from "./connection-status";
