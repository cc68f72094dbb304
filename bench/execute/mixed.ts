import { sampleInterleaved, type Call, type Latency } from "./clients";

export interface UnderFlood<K extends string> {
  readonly latency: Record<K, Latency>;
  /** Async runs the flood had accepted when it stopped, and over how long. */
  readonly floodRuns: number;
  readonly floodSeconds: number;
}

/**
 * (f) The latency an agent sees on a busy platform: `flood` (started here, running until its signal is aborted) loads
 * the platform; once it has run `settleMs` (its backlog building, every process busy), `calls` are sampled as
 * `sampleInterleaved` does, for `rounds` or `maxSampleMs`, whichever ends first (the flood's backlog grows meanwhile);
 * then the flood stops. A flood that fails, or ends by itself, fails the measurement: the
 * samples would otherwise be partly idle ones.
 */
export async function sampleUnderFlood<K extends string>(
  flood: (signal: AbortSignal) => Promise<number>,
  calls: Readonly<Record<K, Call>>,
  options: { readonly rounds: number; readonly warmup: number; readonly settleMs: number; readonly maxSampleMs: number },
): Promise<UnderFlood<K>> {
  const stop = new AbortController();
  const started = performance.now();
  let floodEnded = false;
  const flooding = flood(stop.signal).finally(() => (floodEnded = true));
  try {
    await Promise.race([new Promise((r) => setTimeout(r, options.settleMs)), flooding]);
    const deadline = performance.now() + options.maxSampleMs;
    const latency = await sampleInterleaved(calls, options.rounds, options.warmup, () => !floodEnded && performance.now() < deadline);
    if (floodEnded) {
      await flooding;
      throw new Error("the flood ended before the sampling did");
    }
    stop.abort();
    const floodRuns = await flooding;
    return { latency, floodRuns, floodSeconds: (performance.now() - started) / 1000 };
  } finally {
    stop.abort();
    await flooding.catch(() => {});
  }
}
