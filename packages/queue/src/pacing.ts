/** How an attempt went, for the connection's pacing: succeeded, slowed down by the upstream (429), or neither. */
export type PaceOutcome = "ok" | "slow" | null;

/** A connection's own bounds of its pace (requests/s); null: the deployment's. Equal bounds fix the rate. */
export interface PaceLimits {
  readonly minRps: number | null;
  readonly maxRps: number | null;
}

export interface PacingOptions {
  /** The pace's bounds when the connection sets none (requests/s). */
  readonly minRps: number;
  readonly maxRps: number;
  /** Additive increase: requests/s gained per second of successful calls at full pace (after the first 429). */
  readonly increasePerSec: number;
  /** Multiplicative decrease on a 429 (0–1). */
  readonly decreaseFactor: number;
  /** At most one decrease per this many ms (the 429s of one overshoot arrive together). */
  readonly decreaseCooldownMs: number;
  /** A run whose turn is at most this many seconds away goes at once (the burst tolerance). */
  readonly burstSeconds: number;
  /** Turns are reserved at most this far ahead (ms); later runs come back without one. */
  readonly horizonMs: number;
}

export const DEFAULT_PACING: PacingOptions = { minRps: 0.5, maxRps: 1_000, increasePerSec: 2, decreaseFactor: 0.75, decreaseCooldownMs: 1_000, burstSeconds: 0.1, horizonMs: 1_000 };

/**
 * The deployment's pacing: the defaults, under the deployment's own options. The ceiling is never below the starting
 * pace: a deployment that starts its connections at 5,000 requests/s (NAGENT_CONNECTION_RATE_PER_SEC) means it, and is
 * not clamped to the default ceiling of 1,000.
 */
export function deploymentPacing(startRps: number, options: Partial<PacingOptions> | undefined): PacingOptions {
  return { ...DEFAULT_PACING, maxRps: Math.max(DEFAULT_PACING.maxRps, startRps), ...options };
}
