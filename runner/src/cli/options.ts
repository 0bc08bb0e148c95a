/** Parsing and checking of option values; every bad value is a UsageError naming it. */
import type { Command } from 'commander';
import { MAX_TIMEOUT_SCALE, parseFileTimeout } from '../config/timeout.js';
import { parseSizeText, SIZE_HELP, type ShardSpec } from '@provium/types';
import type { MetaPair } from '../selection/meta-filter.js';
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

/** --mem: the pool's memory, bytes or a K/M/G size (case-insensitive); above 0 and below 2^64. */
export function poolMemory(name: string) {
  return (value: string): number => {
    const bytes = parseSizeText(value);
    if (bytes === undefined) throw new UsageError(`${name}: cannot parse "${value}" as a size: expected ${SIZE_HELP}`);
    if (bytes >= 2 ** 64) throw new UsageError(`${name}: the size "${value}" overflows 64 bits; give the pool's memory in bytes or with K/M/G (e.g. 16G)`);
    if (bytes < 1) throw new UsageError(`${name}: the size "${value}" leaves the pool no memory; give a size above 0 (e.g. 4G)`);
    return bytes;
  };
}

/** --cpu-overcommit: any number; clampOvercommit brings it into range. */
export function finiteNumber(name: string) {
  return (value: string): number => {
    const n = value.trim() === '' ? NaN : Number(value);
    if (!Number.isFinite(n)) throw new UsageError(`${name}: expected a number, got "${value}"`);
    return n;
  };
}

export const MIN_OVERCOMMIT = 0.5;
export const MAX_OVERCOMMIT = 8;

/** --cpu-overcommit F is clamped to [0.5, 8] (a typo such as 100 must not inflate the pool), with a notice when that changes it. */
export function clampOvercommit(value: number, notice: (m: string) => void): number {
  const clamped = Math.min(MAX_OVERCOMMIT, Math.max(MIN_OVERCOMMIT, value));
  if (clamped !== value) notice(`--cpu-overcommit ${value} clamped to ${clamped} (the range is ${MIN_OVERCOMMIT} to ${MAX_OVERCOMMIT})`);
  return clamped;
}

/** --tag-meta / --no-tag-meta KEY=VALUE, split at the first `=`; KEY must not be empty, VALUE may. */
export function metaPair(name: string) {
  return (value: string, previous: MetaPair[] = []): MetaPair[] => {
    const at = value.indexOf('=');
    if (at < 1) throw new UsageError(`${name}: expected KEY=VALUE with a non-empty KEY (e.g. ${name} spec=RFC-9110), got "${value}"`);
    return [...previous, { key: value.slice(0, at), value: value.slice(at + 1) }];
  };
}

/** --vmm: the original's backend switch. Only QEMU exists here. */
export function vmmBackend(name: string) {
  return (value: string): 'qemu' => {
    if (value === 'qemu') return value;
    if (value === 'local') {
      throw new UsageError(`${name} local is not available: this Provium has no host-local backend and runs every test in a QEMU guest; leave out ${name} (or give ${name} qemu)`);
    }
    throw new UsageError(`${name}: unknown backend "${value}"; the one backend is qemu`);
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

/** Options spelled `--no-X` that take a value: commander would read them as the negation of `--X`. */
const NEGATED_WITH_VALUE: Record<string, string> = { '--no-tag': '--skip-tag', '--no-tag-meta': '--skip-tag-meta' };

/**
 * commander reads `--no-X` as the negation of `--X`; `--no-tag <tag>` and
 * `--no-tag-meta <k=v>` are real options here, so they are renamed before parsing.
 */
export function renameNegatedOptions(argv: string[]): string[] {
  return argv.map((a) => {
    const eq = a.indexOf('=');
    const flag = eq < 0 ? a : a.slice(0, eq);
    const to = Object.hasOwn(NEGATED_WITH_VALUE, flag) ? NEGATED_WITH_VALUE[flag] : undefined;
    return to === undefined ? a : to + a.slice(flag.length);
  });
}
