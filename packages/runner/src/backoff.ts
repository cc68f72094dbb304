/**
 * Exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter"): the delay before
 * retry n (n ≥ 1) is uniform in [0, min(cap, base · 2^(n-1))]. When the upstream said how long to wait
 * (Retry-After), wait at least that, plus a little jitter so a crowd of waiting runs does not return at one instant.
 */
export interface BackoffOptions {
  readonly baseMs: number;
  readonly capMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 500, capMs: 30_000 };

export function retryDelayMs(retry: number, retryAfterMs: number | undefined, options: BackoffOptions = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  if (retryAfterMs !== undefined) return Math.round(retryAfterMs + random() * Math.min(1_000, retryAfterMs * 0.1 + 100));
  const ceiling = Math.min(options.capMs, options.baseMs * 2 ** Math.max(0, retry - 1));
  return Math.round(random() * ceiling);
}
