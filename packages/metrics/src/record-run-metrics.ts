import type { Redis } from "ioredis";
import { OUTPUT_CHECKS, bucketOf, CONNECTION_TRANSITIONS, labelField, metricKey, RUN_ATTEMPTS, RUN_DURATION, RUNS_FINISHED, RUNS_STARTED, TRIGGER_DELIVERY_ATTEMPTS, TRIGGER_DELIVERY_LAG, TRIGGER_EVENTS, UPSTREAM_LATENCY, type HistogramSpec, type RunMetricSpec } from "./schema";

/** A run that was created. */
export interface StartedRunSample {
  readonly integration: string;
  readonly action: string;
}

/** A run that ended (the worker's `onRunFinished` report, or a cancel). */
export interface FinishedRunSample {
  readonly integration: string;
  readonly action: string;
  readonly status: "succeeded" | "failed" | "canceled" | "unknown";
  readonly errorCode: string | null;
  /** Attempts the run took; null when it never ran (canceled). */
  readonly attempts: number | null;
  /** From the first attempt's start to the end; null when it never ran. */
  readonly durationMs: number | null;
  /** The last attempt's upstream latency, when it reached the upstream. */
  readonly upstreamLatencyMs: number | null;
}

/**
 * Applies a batch of hash increments atomically in one round trip: ARGV holds (key index, field, increment, kind)
 * quadruples, kind "i" for HINCRBY and "f" for HINCRBYFLOAT. A scrape never sees a histogram's count without its
 * buckets, and a run costs one EVALSHA instead of a MULTI (far cheaper in CPU with ioredis).
 */
const INCREMENT = `
for i = 1, #ARGV, 4 do
  local key = KEYS[tonumber(ARGV[i])]
  if ARGV[i + 3] == 'f' then redis.call('HINCRBYFLOAT', key, ARGV[i + 1], ARGV[i + 2])
  else redis.call('HINCRBY', key, ARGV[i + 1], ARGV[i + 2]) end
end
return 0
`;

type MetricsRedis = Redis & { nagentMetricsIncrement(...args: (string | number)[]): Promise<number> };

/**
 * Records run metrics in Redis, shared by every process (see schema.ts for the layout). Increments are summed in
 * memory and written together every `flushMs` (one script call for all of them), so recording a run costs no round
 * trip of its own; the promise a call returns resolves once its increments are in Redis. Metrics are best effort:
 * callers do not wait for them on a request's path and only log a failure; `close()` writes what is pending.
 */
export function createRunMetricsRecorder(redis: Redis, options: { prefix: string; flushMs?: number }) {
  const { prefix } = options;
  const flushMs = options.flushMs ?? 200;
  const r = redis as MetricsRedis;
  if (!("nagentMetricsIncrement" in r)) redis.defineCommand("nagentMetricsIncrement", { lua: INCREMENT });
  const specs = [RUNS_STARTED, RUNS_FINISHED, RUN_DURATION, UPSTREAM_LATENCY, RUN_ATTEMPTS, TRIGGER_EVENTS, TRIGGER_DELIVERY_ATTEMPTS, TRIGGER_DELIVERY_LAG, OUTPUT_CHECKS, CONNECTION_TRANSITIONS];
  const keys = specs.map((spec) => metricKey(prefix, spec));
  const keyIndex = new Map(specs.map((spec, i) => [spec, i + 1]));
  /** Pending increments: "<key index>\u0000<field>" → [amount, kind]. */
  let pending = new Map<string, [number, "i" | "f"]>();
  let scheduled: { promise: Promise<void>; timer: NodeJS.Timeout; run: () => void } | null = null;

  const add = (spec: RunMetricSpec, field: string, amount: number, kind: "i" | "f" = "i") => {
    const id = `${keyIndex.get(spec)}\u0000${field}`;
    const current = pending.get(id);
    pending.set(id, [(current?.[0] ?? 0) + amount, kind]);
  };
  const observe = (spec: HistogramSpec, labels: string, value: number) => {
    add(spec, `${labels}|le=${bucketOf(spec.buckets, value)}`, 1);
    add(spec, `${labels}|sum`, value, "f");
    add(spec, `${labels}|count`, 1);
  };

  const flush = async (batch: Map<string, [number, "i" | "f"]>): Promise<void> => {
    if (batch.size === 0) return;
    const args: (string | number)[] = [];
    for (const [id, [amount, kind]] of batch) {
      const cut = id.indexOf("\u0000");
      args.push(Number(id.slice(0, cut)), id.slice(cut + 1), amount, kind);
    }
    await r.nagentMetricsIncrement(keys.length, ...keys, ...args);
  };

  /** The promise of the next flush, scheduling it if none is. */
  const nextFlush = (): Promise<void> => {
    if (scheduled) return scheduled.promise;
    let run!: () => void;
    const promise = new Promise<void>((resolve, reject) => {
      run = () => {
        scheduled = null;
        const batch = pending;
        pending = new Map();
        flush(batch).then(resolve, reject);
      };
    });
    const timer = setTimeout(() => run(), flushMs);
    timer.unref();
    scheduled = { promise, timer, run };
    return promise;
  };

  return {
    runStarted(run: StartedRunSample): Promise<void> {
      add(RUNS_STARTED, labelField([run.integration, run.action]), 1);
      return nextFlush();
    },

    runFinished(run: FinishedRunSample): Promise<void> {
      const labels = labelField([run.integration, run.action]);
      add(RUNS_FINISHED, labelField([run.integration, run.action, run.status, run.errorCode ?? ""]), 1);
      if (run.durationMs !== null) observe(RUN_DURATION, labels, Math.max(0, run.durationMs) / 1000);
      if (run.upstreamLatencyMs !== null) observe(UPSTREAM_LATENCY, labels, Math.max(0, run.upstreamLatencyMs) / 1000);
      if (run.attempts !== null) observe(RUN_ATTEMPTS, labels, run.attempts);
      return nextFlush();
    },

    /** A trigger event stored (not a duplicate). */
    triggerEvent(trigger: string, source: string): Promise<void> {
      add(TRIGGER_EVENTS, labelField([trigger, source]), 1);
      return nextFlush();
    },

    /** One delivery attempt; `lagMs` (event stored → delivered) for a success. */
    deliveryAttempted(outcome: string, lagMs: number | null): Promise<void> {
      add(TRIGGER_DELIVERY_ATTEMPTS, labelField([outcome]), 1);
      if (lagMs !== null) observe(TRIGGER_DELIVERY_LAG, labelField([]), Math.max(0, lagMs) / 1000);
      return nextFlush();
    },

    /** A connection changed status (see recordConnectionTransition). */
    connectionTransition(t: { readonly integration: string; readonly from: string; readonly to: string }): Promise<void> {
      add(CONNECTION_TRANSITIONS, labelField([t.integration, t.from, t.to]), 1);
      return nextFlush();
    },

    /** An upstream answer checked against its action's output schema (result "valid" or "mismatch"). */
    outputChecked(c: { readonly integration: string; readonly action: string; readonly valid: boolean }): Promise<void> {
      add(OUTPUT_CHECKS, labelField([c.integration, c.action, c.valid ? "valid" : "mismatch"]), 1);
      return nextFlush();
    },

    /** Writes what is pending now (shutdown). */
    async close(): Promise<void> {
      const current = scheduled;
      if (!current) return;
      clearTimeout(current.timer);
      current.run();
      await current.promise.catch(() => {});
    },
  };
}

export type RunMetricsRecorder = ReturnType<typeof createRunMetricsRecorder>;
