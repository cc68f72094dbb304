const ELLIPSIS = "…";
/** A prefix like `live_`, `test_` or `sk_` is shown only if it is this short (the `_` included). */
const MAX_PREFIX = 8;
/** Below this many characters after the prefix, the last four would give away too much: show nothing. */
const MIN_BODY_FOR_TAIL = 16;

/**
 * A hint that lets a person recognise a secret without revealing it: `live_abcdef…1a2b` → `live_…1a2b`. Shows the
 * prefix up to and including the first `_` when that is at most 8 characters, an ellipsis, and the last 4
 * characters; a secret with fewer than 16 characters after its prefix shows only the ellipsis.
 */
export function maskSecret(secret: string): string {
  const chars = Array.from(secret.trim());
  const underscore = chars.indexOf("_");
  const prefixLength = underscore >= 0 && underscore + 1 <= MAX_PREFIX ? underscore + 1 : 0;
  const body = chars.length - prefixLength;
  if (body < MIN_BODY_FOR_TAIL) return ELLIPSIS;
  return `${chars.slice(0, prefixLength).join("")}${ELLIPSIS}${chars.slice(-4).join("")}`;
}
