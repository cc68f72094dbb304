import type { Redis } from "ioredis";
import { bucketOf, labelField, metricKey, RUN_ATTEMPTS, RUN_DURATION, RUNS_FINISHED, RUNS_STARTED, UPSTREAM_LATENCY, type HistogramSpec } from "./schema";

/** A run that was created. */
export interface StartedRunSample {
  readonly integration: string;
  readonly action: string;
}

/** A run that ended (the worker's `onRunFinished` report, or a cancel). */
export interface FinishedRunSample {
  readonly integration: string;
  readonly action: string;
  readonly status: "succeeded" | "failed" | "canceled";
  readonly errorCode: string | null;
  /** Attempts the run took; null when it never ran (canceled). */
  readonly attempts: number | null;
  /** From the first attempt's start to the end; null when it never ran. */
  readonly durationMs: number | null;
  /** The last attempt's upstream latency, when it reached the upstream. */
  readonly upstreamLatencyMs: number | null;
}

type Multi = ReturnType<Redis["multi"]>;

/**
 * Records run metrics in Redis, shared by every process (see schema.ts for the layout). Each run costs one MULTI of a
 * few HINCRBY/HINCRBYFLOAT, so a scrape never sees a histogram's count without its buckets. Metrics are best effort:
 * callers do not wait for them on a request's path and only log a failure.
 */
export function createRunMetricsRecorder(redis: Redis, options: { prefix: string }) {
  const { prefix } = options;

  function observe(multi: Multi, spec: HistogramSpec, labels: string, value: number): void {
    const key = metricKey(prefix, spec);
    multi.hincrby(key, `${labels}|le=${bucketOf(spec.buckets, value)}`, 1);
    multi.hincrbyfloat(key, `${labels}|sum`, value);
    multi.hincrby(key, `${labels}|count`, 1);
  }

  return {
    async runStarted(run: StartedRunSample): Promise<void> {
      await redis.hincrby(metricKey(prefix, RUNS_STARTED), labelField([run.integration, run.action]), 1);
    },

    async runFinished(run: FinishedRunSample): Promise<void> {
      const labels = labelField([run.integration, run.action]);
      const multi = redis.multi();
      multi.hincrby(metricKey(prefix, RUNS_FINISHED), labelField([run.integration, run.action, run.status, run.errorCode ?? ""]), 1);
      if (run.durationMs !== null) observe(multi, RUN_DURATION, labels, Math.max(0, run.durationMs) / 1000);
      if (run.upstreamLatencyMs !== null) observe(multi, UPSTREAM_LATENCY, labels, Math.max(0, run.upstreamLatencyMs) / 1000);
      if (run.attempts !== null) observe(multi, RUN_ATTEMPTS, labels, run.attempts);
      await multi.exec();
    },
  };
}

export type RunMetricsRecorder = ReturnType<typeof createRunMetricsRecorder>;
