/**
 * Durations and sizes as authors write them: a number (seconds / bytes) or a
 * string with a unit. Shared by the runtime, the config loader and the
 * language server so that all three accept exactly the same literals.
 */

const DURATION_UNITS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600 };
const SIZE_UNITS: Record<string, number> = { K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

const DURATION_RE = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*(ms|s|m|h)\s*$/;
// "512M", "512MB", "512MiB", "100B", "4096"
const SIZE_RE = /^\s*(\d+(?:\.\d+)?)\s*(?:([KMGT])(?:i?B)?|B)?\s*$/i;

/** Seconds for a duration string such as "500ms", "5s", "2m", "1h"; undefined when malformed. */
export function parseDurationText(text: string): number | undefined {
  const m = DURATION_RE.exec(text);
  if (!m) return undefined;
  return Number(m[1]) * DURATION_UNITS[m[2]];
}

/** Bytes for a size string such as "512M", "2G", "4096"; undefined when malformed. */
export function parseSizeText(text: string): number | undefined {
  const m = SIZE_RE.exec(text);
  if (!m) return undefined;
  const factor = m[2] ? SIZE_UNITS[m[2].toUpperCase()] : 1;
  return Math.round(Number(m[1]) * factor);
}

export const DURATION_HELP = 'a number of seconds or a string with a unit: "500ms", "5s", "2m", "1h"';
export const SIZE_HELP = 'a number of bytes or a string with a unit (powers of 1024): "512M", "2G"';

/** Seconds from a number or duration string; throws naming the value. */
export function toSeconds(value: number | string, what: string): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) throw new Error(`${what}: invalid duration ${value}: expected ${DURATION_HELP}`);
    return value;
  }
  const s = parseDurationText(value);
  if (s === undefined) throw new Error(`${what}: invalid duration "${value}": expected ${DURATION_HELP}`);
  return s;
}

/** Bytes from a number or size string; throws naming the value. */
export function toBytes(value: number | string, what: string): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) throw new Error(`${what}: invalid size ${value}: expected ${SIZE_HELP}`);
    return Math.round(value);
  }
  const b = parseSizeText(value);
  if (b === undefined) throw new Error(`${what}: invalid size "${value}": expected ${SIZE_HELP}`);
  return b;
}
