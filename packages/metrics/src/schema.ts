/**
 * The run metrics every process shares through Redis: their Prometheus names, labels and buckets, and how they are
 * laid out in Redis. The API increments `runs started`; workers record finished runs; any API process renders them.
 *
 * Layout: one hash per metric at `<prefix>:metrics:<name>`. A field names a label set as the JSON array of its label
 * values (in `labelNames` order); histograms add `|le=<bound>` (count of observations in that bucket alone, not
 * cumulative, so one observation is one HINCRBY), `|sum` and `|count`. Label values are checked against
 * `LABEL_VALUE`, so a field never contains `|`; a histogram's fields are parsed at the last `|`.
 */

export interface CounterSpec {
  readonly kind: "counter";
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
}

export interface HistogramSpec {
  readonly kind: "histogram";
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  /** Upper bounds, ascending, in the metric's unit. */
  readonly buckets: readonly number[];
}

export type RunMetricSpec = CounterSpec | HistogramSpec;

const RUN_LABELS = ["integration", "action"] as const;

export const RUNS_STARTED: CounterSpec = {
  kind: "counter",
  name: "nagent_runs_started_total",
  help: "Runs created by execute calls (replays of an Idempotency-Key not counted). Cluster-wide.",
  labelNames: RUN_LABELS,
};

export const RUNS_FINISHED: CounterSpec = {
  kind: "counter",
  name: "nagent_runs_finished_total",
  help: "Runs that ended, by final status and stable error code (empty for successes). Cluster-wide.",
  labelNames: [...RUN_LABELS, "status", "error_code"],
};

export const RUN_DURATION: HistogramSpec = {
  kind: "histogram",
  name: "nagent_run_duration_seconds",
  help: "From a run's first attempt's start to its end, retries and waits included. Cluster-wide.",
  labelNames: RUN_LABELS,
  buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
};

export const UPSTREAM_LATENCY: HistogramSpec = {
  kind: "histogram",
  name: "nagent_upstream_latency_seconds",
  help: "Latency of the last upstream call of each finished run that reached the upstream. Cluster-wide.",
  labelNames: RUN_LABELS,
  buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
};

export const RUN_ATTEMPTS: HistogramSpec = {
  kind: "histogram",
  name: "nagent_run_attempts",
  help: "Attempts each finished run took, the last included. Cluster-wide.",
  labelNames: RUN_LABELS,
  buckets: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
};

export const TRIGGER_EVENTS: CounterSpec = {
  kind: "counter",
  name: "nagent_trigger_events_total",
  help: "Trigger events stored (duplicates of a stored event not counted), by trigger and source (callback, poll, test, platform). Cluster-wide.",
  labelNames: ["trigger", "source"],
};

export const TRIGGER_DELIVERY_ATTEMPTS: CounterSpec = {
  kind: "counter",
  name: "nagent_trigger_delivery_attempts_total",
  help: "Delivery attempts to subscribers, by outcome: succeeded, failed (non-2xx), gone (410), error (network, timeout, egress). Cluster-wide.",
  labelNames: ["outcome"],
};

export const TRIGGER_DELIVERY_LAG: HistogramSpec = {
  kind: "histogram",
  name: "nagent_trigger_delivery_lag_seconds",
  help: "From an event's storage to its successful delivery to a subscriber (retries included). Cluster-wide.",
  labelNames: [],
  buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 60, 300, 3600, 21600, 86400, 259200],
};

export const CONNECTION_TRANSITIONS: CounterSpec = {
  kind: "counter",
  name: "nagent_connection_status_transitions_total",
  help: "Connection status changes (active, degraded, invalid), by integration, from and to. Cluster-wide.",
  labelNames: ["integration", "from", "to"],
};

export const OUTPUT_CHECKS: CounterSpec = {
  kind: "counter",
  name: "nagent_output_checks_total",
  help: "Upstream answers checked against their action's output schema, by result (valid, mismatch). Cluster-wide.",
  labelNames: [...RUN_LABELS, "result"],
};

export const RUN_METRICS: readonly RunMetricSpec[] = [RUNS_STARTED, RUNS_FINISHED, RUN_DURATION, UPSTREAM_LATENCY, RUN_ATTEMPTS, TRIGGER_EVENTS, TRIGGER_DELIVERY_ATTEMPTS, TRIGGER_DELIVERY_LAG, OUTPUT_CHECKS, CONNECTION_TRANSITIONS];

/**
 * What a label value may be: registry slugs (`scale_ai`, `SCALE_AI_CREATE_BATCH`), the run status enum and stable
 * error codes (`UPSTREAM_CONFLICT`) all fit, or empty. Anything else (a UUID has `-`, a URL `:` and `/`, free text
 * spaces) is recorded as `other`, so a bug upstream of the recorder can never turn ids or user input into label
 * values (unbounded series in Prometheus, and possibly data that must not leave the platform).
 */
export const LABEL_VALUE = /^(?:[A-Za-z][A-Za-z0-9_]{0,127})?$/;

export function labelValue(value: string | null | undefined): string {
  const v = value ?? "";
  return LABEL_VALUE.test(v) ? v : "other";
}

export function metricKey(prefix: string, spec: RunMetricSpec): string {
  return `${prefix}:metrics:${spec.name}`;
}

export function labelField(values: readonly string[]): string {
  return JSON.stringify(values.map(labelValue));
}

/** The bucket an observation falls in: the smallest bound not below it, or `+Inf`. */
export function bucketOf(buckets: readonly number[], value: number): string {
  for (const bound of buckets) if (value <= bound) return String(bound);
  return "+Inf";
}
