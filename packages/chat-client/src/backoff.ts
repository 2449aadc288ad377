/**
 * Exponential backoff with jitter: attempt 0 waits about `baseMs`, each further attempt doubles
 * the ceiling up to `maxMs`. Half fixed, half random, so a crowd of clients reconnecting after
 * a restart spreads out while none waits much less than the schedule says.
 */
export function backoffDelay(
  attempt: number,
  baseMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 16));
  return ceiling / 2 + random() * (ceiling / 2);
}
