/**
 * The per-file timeout as written (`--timeout`, `[provium] timeout`), read the
 * same way in both places: a number of seconds, a bare number string counting
 * as seconds, or a duration string; 0 means no per-file timeout.
 */
import { toSeconds } from '@provium/types';

/** --timeout-scale multiplies every timeout, also those of VM waits, whose timers stop at 2^31-1 ms (24.8 days). */
export const MAX_TIMEOUT_SCALE = 100;

/** Seconds (0: none); throws an Error naming `what` and the value. */
export function parseFileTimeout(value: number | string, what: string): number {
  return toSeconds(typeof value === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(value) ? Number(value) : value, what);
}

/** The per-file timeout in ms for the run, scaled; Infinity for none. */
export function fileTimeoutMs(seconds: number, scale: number): number {
  return seconds === 0 ? Infinity : seconds * 1000 * scale;
}
