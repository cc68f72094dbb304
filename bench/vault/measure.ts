// Timing helpers of the vault benchmark. The machine's two cores are shared with PostgreSQL, so only ratios measured
// in one run mean anything (ENVIRONMENT.md): each comparison interleaves its two sides round by round.

/** Operations per second of `op`, run `iterations` times in a tight loop. */
export function opsPerSecond(iterations: number, op: (i: number) => void): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) op(i);
  const ns = Number(process.hrtime.bigint() - start);
  return (iterations * 1e9) / ns;
}

/** Median ops/s of two operations measured alternately for `rounds` rounds (after one warm-up round each). */
export function compareThroughput(rounds: number, iterations: number, a: (i: number) => void, b: (i: number) => void): { a: number; b: number } {
  opsPerSecond(Math.min(iterations, 2_000), a);
  opsPerSecond(Math.min(iterations, 2_000), b);
  const ra: number[] = [];
  const rb: number[] = [];
  for (let r = 0; r < rounds; r++) {
    ra.push(opsPerSecond(iterations, a));
    rb.push(opsPerSecond(iterations, b));
  }
  return { a: median(ra), b: median(rb) };
}

export interface Latency {
  readonly p50: number;
  readonly p99: number;
  readonly n: number;
}

/** p50 and p99, in microseconds, of `samples` sequential calls of an async operation. */
export async function latency(samples: number, op: (i: number) => Promise<unknown>): Promise<Latency> {
  const us: number[] = [];
  await latencySamples(samples, op, us);
  return summarise(us);
}

export function median(values: number[]): number {
  return percentile([...values].sort((x, y) => x - y), 0.5);
}

function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

export function fmtRate(opsPerSec: number): string {
  return `${Math.round(opsPerSec).toLocaleString("en-US")}/s`;
}

export function fmtUs(us: number): string {
  return us >= 1_000 ? `${(us / 1_000).toFixed(2)} ms` : `${us.toFixed(1)} µs`;
}

/**
 * Latency of several async operations sampled in turn, `samplesPerRound` calls of each per round, so drift in the
 * machine's load hits them all alike. Returns one summary per operation, in order.
 */
export async function compareLatency(rounds: number, samplesPerRound: number, ops: readonly ((i: number) => Promise<unknown>)[]): Promise<Latency[]> {
  const all = ops.map(() => [] as number[]);
  for (let r = 0; r < rounds; r++) {
    const offset = r * samplesPerRound;
    for (const [k, op] of ops.entries()) await latencySamples(samplesPerRound, (i) => op(offset + i), all[k]!);
  }
  return all.map(summarise);
}

async function latencySamples(samples: number, op: (i: number) => Promise<unknown>, into: number[]): Promise<void> {
  for (let i = 0; i < samples; i++) {
    const start = process.hrtime.bigint();
    await op(i);
    into.push(Number(process.hrtime.bigint() - start) / 1_000);
  }
}

function summarise(us: number[]): Latency {
  const sorted = [...us].sort((x, y) => x - y);
  return { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), n: sorted.length };
}
