import type { Redis } from "ioredis";
import { metricKey, type CounterSpec, type HistogramSpec } from "./schema";

export type Labels = Record<string, string>;

export interface CounterSeries {
  readonly labels: Labels;
  readonly value: number;
}

export interface HistogramSeries {
  readonly labels: Labels;
  /** Cumulative counts per upper bound of the spec's buckets, ascending (the `+Inf` bucket is `count`). */
  readonly buckets: readonly { readonly le: number; readonly count: number }[];
  readonly sum: number;
  readonly count: number;
}

function parseLabels(spec: CounterSpec | HistogramSpec, field: string): Labels | null {
  let values: unknown;
  try {
    values = JSON.parse(field);
  } catch {
    return null;
  }
  if (!Array.isArray(values) || values.length !== spec.labelNames.length || !values.every((v) => typeof v === "string")) return null;
  return Object.fromEntries(spec.labelNames.map((name, i) => [name, values[i] as string]));
}

/** Reads the cluster-wide run metrics that `createRunMetricsRecorder` writes, as series ready to render. */
export function createRunMetricsReader(redis: Redis, options: { prefix: string }) {
  const { prefix } = options;
  return {
    async counter(spec: CounterSpec): Promise<CounterSeries[]> {
      const hash = await redis.hgetall(metricKey(prefix, spec));
      const out: CounterSeries[] = [];
      for (const [field, value] of Object.entries(hash)) {
        const labels = parseLabels(spec, field);
        if (labels) out.push({ labels, value: Number(value) });
      }
      return out;
    },

    async histogram(spec: HistogramSpec): Promise<HistogramSeries[]> {
      const hash = await redis.hgetall(metricKey(prefix, spec));
      const byLabels = new Map<string, { labels: Labels; perBound: Map<number, number>; sum: number; count: number }>();
      for (const [field, raw] of Object.entries(hash)) {
        const bar = field.lastIndexOf("|");
        if (bar < 0) continue;
        const labelPart = field.slice(0, bar);
        const part = field.slice(bar + 1);
        let series = byLabels.get(labelPart);
        if (!series) {
          const labels = parseLabels(spec, labelPart);
          if (!labels) continue;
          series = { labels, perBound: new Map(), sum: 0, count: 0 };
          byLabels.set(labelPart, series);
        }
        const value = Number(raw);
        if (part === "sum") series.sum = value;
        else if (part === "count") series.count = value;
        else if (part.startsWith("le=")) {
          // A bound written under other buckets (a deploy changed them) counts in the smallest current bucket that
          // holds it, so counts stay cumulative and never exceed `count`.
          const bound = part === "le=+Inf" ? Infinity : Number(part.slice(3));
          const target = spec.buckets.find((b) => bound <= b) ?? Infinity;
          series.perBound.set(target, (series.perBound.get(target) ?? 0) + value);
        }
      }
      return [...byLabels.values()].map(({ labels, perBound, sum, count }) => {
        let running = 0;
        const buckets = spec.buckets.map((le) => {
          running += perBound.get(le) ?? 0;
          return { le, count: running };
        });
        return { labels, buckets, sum, count };
      });
    },
  };
}

export type RunMetricsReader = ReturnType<typeof createRunMetricsReader>;
