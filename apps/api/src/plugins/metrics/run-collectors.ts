import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { Queue } from "bullmq";
import type { FastifyBaseLogger } from "fastify";
import type { Redis } from "ioredis";
import { RUN_METRICS, type CounterSpec, type HistogramSeries, type HistogramSpec, type RunMetricsReader } from "@nagent/metrics";

/** BullMQ job states reported by `nagent_queue_jobs` (queue depth is waiting + prioritized; `active` the jobs in hand). */
export const QUEUE_STATES = ["waiting", "prioritized", "active", "delayed", "failed", "waiting-children"] as const;

/**
 * A histogram whose series are read from Redis at scrape time. prom-client can only build histograms from local
 * observations, so this one renders series it is given: it answers both `get()` and `getForPromString()` (which
 * prom-client's registry prefers when present) with the metric object prom-client formats.
 */
class StoredHistogram extends Histogram<string> {
  readonly #spec: HistogramSpec;
  readonly #read: () => Promise<HistogramSeries[]>;

  /** `read` answers the series to render ([] when they cannot be read). */
  constructor(spec: HistogramSpec, registry: Registry, read: () => Promise<HistogramSeries[]>) {
    super({ name: spec.name, help: spec.help, labelNames: spec.labelNames, buckets: [...spec.buckets], registers: [registry] });
    this.#spec = spec;
    this.#read = read;
  }

  async getForPromString(): Promise<MetricObject> {
    const { name, help } = this.#spec;
    const series = await this.#read();
    const values = series.flatMap(({ labels, buckets, sum, count }) => [
      ...buckets.map(({ le, count: c }) => ({ metricName: `${name}_bucket`, labels: { ...labels, le }, value: c })),
      { metricName: `${name}_bucket`, labels: { ...labels, le: "+Inf" }, value: count },
      { metricName: `${name}_sum`, labels, value: sum },
      { metricName: `${name}_count`, labels, value: count },
    ]);
    // prom-client's declared type wants its MetricType enum; at run time (and in its own histograms) it is the string.
    return { name, help, type: "histogram", aggregator: "sum", values } as unknown as MetricObject;
  }

  override async get(): Promise<MetricObject> {
    return this.getForPromString();
  }
}

type MetricObject = Awaited<ReturnType<Histogram<string>["get"]>>;

/** A scrape must not hang on Redis (Prometheus gives up after its scrape timeout, 10 s by default). */
const READ_TIMEOUT_MS = 2_000;
/** While Redis is down every scrape would fail the same way: say so once a minute, not six times a scrape. */
const WARN_EVERY_MS = 60_000;

/**
 * The cluster-wide run metrics (read from Redis on each scrape) and the runs queue's job counts (BullMQ, at scrape
 * time). When Redis does not answer, those series are left out of the scrape (not zeroed, which Prometheus would take
 * for a counter reset) and the failure is logged; the process's own metrics are still served.
 */
export function registerRunCollectors(registry: Registry, deps: { redis: Redis; reader: RunMetricsReader; runsQueue: Queue; log: FastifyBaseLogger }): void {
  let lastWarning = 0;
  async function fromRedis<T>(what: string, read: () => Promise<T>): Promise<T | null> {
    let timer: NodeJS.Timeout | undefined;
    try {
      // BullMQ waits for a connection rather than failing: do not even ask while Redis is not connected.
      if (deps.redis.status !== "ready") throw new Error(`Redis is ${deps.redis.status}`);
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${READ_TIMEOUT_MS} ms`)), READ_TIMEOUT_MS);
      });
      return await Promise.race([read(), timeout]);
    } catch (error) {
      if (Date.now() - lastWarning >= WARN_EVERY_MS) {
        lastWarning = Date.now();
        deps.log.warn({ err: { message: (error as Error).message } }, `metrics: could not read ${what} from Redis; cluster-wide series left out`);
      }
      return null;
    } finally {
      clearTimeout(timer);
    }
  }

  for (const spec of RUN_METRICS) {
    if (spec.kind === "histogram") {
      new StoredHistogram(spec, registry, async () => (await fromRedis(spec.name, () => deps.reader.histogram(spec))) ?? []);
      continue;
    }
    const counterSpec: CounterSpec = spec;
    new Counter({
      name: counterSpec.name, help: counterSpec.help, labelNames: counterSpec.labelNames, registers: [registry],
      async collect() {
        // Read first, then reset and fill without awaiting in between, so concurrent scrapes never mix their values.
        const series = (await fromRedis(counterSpec.name, () => deps.reader.counter(counterSpec))) ?? [];
        this.reset();
        for (const { labels, value } of series) this.inc(labels, value);
      },
    });
  }

  new Gauge({
    name: "nagent_queue_jobs",
    help: "Jobs of the runs queue by BullMQ state, read at scrape time (cluster-wide): waiting + prioritized is the queue's depth, active the runs in workers' hands.",
    labelNames: ["state"], registers: [registry],
    async collect() {
      const counts = await fromRedis("queue job counts", () => deps.runsQueue.getJobCounts(...QUEUE_STATES));
      this.reset();
      if (counts) for (const state of QUEUE_STATES) this.set({ state }, counts[state] ?? 0);
    },
  });
}
