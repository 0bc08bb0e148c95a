/** Parsing and checking of option values; every bad value is a UsageError naming it. */
import { toSeconds } from '@provium/types';
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

/** "30", "500ms", "2m" → seconds. A bare number on the command line means seconds. */
export function duration(name: string) {
  return (value: string): number => {
    try {
      return toSeconds(/^\d+(\.\d+)?$/.test(value) ? Number(value) : value, name);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  };
}

/**
 * commander reads `--no-X` as the negation of `--X`; `--no-tag <tag>` is a
 * real option here, so it is renamed before parsing.
 */
export function renameNoTag(argv: string[]): string[] {
  return argv.map((a) => (a === '--no-tag' ? '--skip-tag' : a.startsWith('--no-tag=') ? `--skip-tag=${a.slice('--no-tag='.length)}` : a));
}
