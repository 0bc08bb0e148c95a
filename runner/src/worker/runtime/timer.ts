/** Node fires a timer of more than 2^31 - 1 ms after 1 ms: every computed delay goes through this. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** `ms` as a delay Node honours: past ~24.8 days, that long (waits that loop re-check their deadline). */
export function timerMs(ms: number): number {
  return Math.max(0, Math.min(ms, MAX_TIMER_MS));
}
