/** Parsing and checking of option values; every bad value is a UsageError naming it. */
import type { Command } from 'commander';
import { MAX_TIMEOUT_SCALE, parseFileTimeout } from '../config/timeout.js';
import type { ShardSpec } from '@provium/types';
import { UsageError } from '../errors.js';

export interface ReporterOptions {
  reporter: string;
  output?: string;
}

/** --reporter and --output go together: junit needs a file, and a file is only junit's. */
export function checkReporterOptions(o: ReporterOptions): void {
  if (o.reporter !== 'default' && o.reporter !== 'junit') throw new UsageError(`--reporter: unknown reporter "${o.reporter}"; use default or junit`);
  if (o.reporter === 'junit' && !o.output) throw new UsageError('--reporter junit needs --output FILE (where to write the XML)');
  if (o.output && o.reporter !== 'junit') throw new UsageError('--output FILE is where --reporter junit writes its XML; add --reporter junit (or leave out --output)');
}

/** --shard K/N: the K-th of N shards, 1 <= K <= N. */
export function shardSpec(name: string) {
  return (value: string): ShardSpec => {
    const m = /^(\d+)\/(\d+)$/.exec(value.trim());
    const index = Number(m?.[1]);
    const count = Number(m?.[2]);
    if (!m || !Number.isSafeInteger(count) || count < 1 || index < 1 || index > count) {
      throw new UsageError(`${name}: expected K/N, the K-th of N shards with 1 <= K <= N (e.g. 2/3), got "${value}"`);
    }
    return { index, count };
  };
}

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
