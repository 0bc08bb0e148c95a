/** Parsing and checking of option values; every bad value is a UsageError naming it. */
import type { Command } from 'commander';
import { MAX_TIMEOUT_SCALE, parseFileTimeout } from '../config/timeout.js';
import { UsageError } from '../errors.js';

export const collect = (value: string, previous: string[] = []) => [...previous, value];

export function positiveInt(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new UsageError(`${name}: expected a whole number of at least 1, got "${value}"`);
    return n;
  };
}

export function positiveNumber(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${name}: expected a positive number, got "${value}"`);
    return n;
  };
}

/** --timeout: "30" (seconds), "500ms", "2m"; "0" for no per-file timeout (see config/timeout.ts). */
export function fileTimeout(name: string) {
  return (value: string): number => {
    try {
      return parseFileTimeout(value, name);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  };
}

/** --timeout-scale: above 0 and at most MAX_TIMEOUT_SCALE. */
export function timeoutScale(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!(n > 0 && n <= MAX_TIMEOUT_SCALE)) {
      throw new UsageError(`${name}: expected a number above 0 and at most ${MAX_TIMEOUT_SCALE}, got "${value}" (it multiplies every timeout, and a timer cannot wait longer than 24 days)`);
    }
    return n;
  };
}

/** `--remote-cache URL` and `--remote-cache-read-only`, for the commands that build fixtures (config/remote-cache.ts). */
export function remoteCacheOptions(cmd: Command): Command {
  return cmd
    .option('--remote-cache <url>', 'remote fixture cache (HTTP GET/PUT, e.g. WebDAV): fetch fixtures from it before building, upload what is built; "" for none')
    .option('--remote-cache-read-only', 'use the remote fixture cache without uploading to it (untrusted jobs)');
}

/**
 * commander reads `--no-X` as the negation of `--X`; `--no-tag <tag>` is a
 * real option here, so it is renamed before parsing.
 */
export function renameNoTag(argv: string[]): string[] {
  return argv.map((a) => (a === '--no-tag' ? '--skip-tag' : a.startsWith('--no-tag=') ? `--skip-tag=${a.slice('--no-tag='.length)}` : a));
}
