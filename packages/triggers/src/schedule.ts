/**
 * The retry schedule of a delivery, after its first attempt (which is immediate): 5 s, 5 min, 30 min, 2 h, 5 h, 10 h,
 * 14 h, 20 h, 24 h. Eleven attempts over about 3 days and 3 hours, the shape Svix and Stripe use (quick retries for a
 * blip, then hours apart for an outage). A `Retry-After` answer replaces the next delay when it is longer (capped at
 * a day).
 */
export const DELIVERY_RETRY_DELAYS_MS: readonly number[] = [
  5_000, 5 * 60_000, 30 * 60_000, 2 * 3600_000, 5 * 3600_000, 10 * 3600_000, 14 * 3600_000, 20 * 3600_000, 24 * 3600_000,
];

/** The longest Retry-After honoured (a day, the schedule's longest step). */
export const MAX_RETRY_AFTER_MS = 24 * 3600_000;

/** The delay before retry number `retryIndex` (0-based), or null when the schedule is spent. */
export function nextRetryDelay(schedule: readonly number[], retryIndex: number, retryAfterMs: number | null): number | null {
  const planned = schedule[retryIndex];
  if (planned === undefined) return null;
  if (retryAfterMs === null) return planned;
  return Math.min(Math.max(planned, retryAfterMs), MAX_RETRY_AFTER_MS);
}

/** Parses a Retry-After header (seconds or an HTTP date) into milliseconds from `now`; null when absent or bad. */
export function parseRetryAfterMs(value: string | string[] | undefined, now = Date.now()): number | null {
  const raw = Array.isArray(value) ? value[0] : value;
  if (raw === undefined || raw.trim() === "") return null;
  if (/^\d{1,9}$/.test(raw.trim())) return Number(raw.trim()) * 1000;
  const at = Date.parse(raw);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}
