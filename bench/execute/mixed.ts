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

/**
 * Where a workspace's runs created since `since` spent their time, p50/p99 in ms: queued (written → claimed by the
 * worker) and running (claimed → finished), as PostgreSQL recorded them (ms precision). Tells a wait for a worker
 * slot from a run slowed down by the runs it shares the worker with.
 */
export async function runPhases(db: import("pg").Pool, workspace: string, since: Date): Promise<string> {
  const { rows } = await db.query<{ q50: number; q99: number; r50: number; r99: number; n: number }>(
    `SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM r.started_at - r.created_at) * 1000) AS q50,
            percentile_disc(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM r.started_at - r.created_at) * 1000) AS q99,
            percentile_disc(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM r.finished_at - r.started_at) * 1000) AS r50,
            percentile_disc(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM r.finished_at - r.started_at) * 1000) AS r99,
            count(*)::int AS n
       FROM run r JOIN workspace w ON w.id = r.workspace_id
      WHERE w.name = $1 AND r.created_at >= $2 AND r.finished_at IS NOT NULL`,
    [workspace, since],
  );
  const p = rows[0]!;
  const ms = (v: number) => `${Number(v).toFixed(0)} ms`;
  return `queued p50 ${ms(p.q50)}, p99 ${ms(p.q99)}; running p50 ${ms(p.r50)}, p99 ${ms(p.r99)} (n=${p.n}, from PostgreSQL)`;
}
