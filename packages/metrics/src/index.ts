export * from "./schema";
export { createRunMetricsRecorder, type RunMetricsRecorder, type StartedRunSample, type FinishedRunSample } from "./record-run-metrics";
export { createRunMetricsReader, type RunMetricsReader, type CounterSeries, type HistogramSeries, type Labels } from "./read-run-metrics";
