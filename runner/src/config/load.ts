/**
 * provium.toml: found by searching upward from the working directory, parsed,
 * checked key by key (an unknown key names itself, the file and the known
 * keys), and resolved to absolute paths. `[profiles.*]` tables are kept raw:
 * the image package validates them when a VM needs them.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'smol-toml';
import { parseSizeText, rootProblem } from '@provium/types';
import { UsageError } from '../errors.js';
import { CONFIG_FILE, DEFAULT_CACHE_MAX_SIZE, DEFAULT_FILE_TIMEOUT_S, DEFAULT_ROOTS } from './defaults.js';
import { readRemoteCacheSection, type RemoteCacheToml } from './remote-cache.js';
import { parseFileTimeout } from './timeout.js';

export interface ResolvedConfig {
  /** Absolute path of provium.toml, when there is one. */
  file?: string;
  /** The directory paths in the config are relative to (the config's dir, else the cwd). */
  baseDir: string;
  /** Absolute root directories. */
  roots: string[];
  cacheDir?: string;
  cacheMaxSize: number;
  /** Per-file timeout, seconds; 0 for none. */
  timeout: number;
  /** The raw TOML document (profiles are validated by @provium/image). */
  toml: Record<string, unknown>;
  /** `remote_cache`, `remote_cache_upload`, `remote_cache_timeout` of `[provium]`, checked (remote-cache.ts resolves them with flags and environment). */
  remote: RemoteCacheToml;
}

const PROVIUM_KEYS = ['roots', 'cache_dir', 'cache_max_size', 'timeout', 'remote_cache', 'remote_cache_upload', 'remote_cache_timeout'];
const TOP_LEVEL_KEYS = ['provium', 'profiles'];

export function findConfig(from: string): string | undefined {
  let dir = path.resolve(from);
  for (;;) {
    const candidate = path.join(dir, CONFIG_FILE);
    if (existsSync(candidate)) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

function fail(file: string, what: string): never {
  throw new UsageError(`${file}: ${what}`);
}

export function loadConfig(cwd: string, explicit?: string): ResolvedConfig {
  const file = explicit ? path.resolve(cwd, explicit) : findConfig(cwd);
  if (!file) {
    return { baseDir: cwd, roots: DEFAULT_ROOTS.map((r) => path.resolve(cwd, r)), cacheMaxSize: parseSizeText(DEFAULT_CACHE_MAX_SIZE)!, timeout: DEFAULT_FILE_TIMEOUT_S, toml: {}, remote: {} };
  }
  let toml: Record<string, unknown>;
  try {
    toml = parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    const err = e as Error & { line?: number; column?: number };
    fail(err.line ? `${file}:${err.line}` : file, `not valid TOML: ${err.message.split('\n')[0]}`);
  }
  for (const key of Object.keys(toml)) {
    if (!TOP_LEVEL_KEYS.includes(key)) fail(file, `unknown table or key "${key}"; known: ${TOP_LEVEL_KEYS.map((k) => `[${k}]`).join(', ')}`);
  }
  const baseDir = path.dirname(file);
  const section = (toml.provium ?? {}) as Record<string, unknown>;
  if (typeof section !== 'object' || Array.isArray(section)) fail(file, '[provium] must be a table');
  for (const key of Object.keys(section)) {
    if (!PROVIUM_KEYS.includes(key)) fail(file, `unknown key "${key}" in [provium]; known keys: ${PROVIUM_KEYS.join(', ')}`);
  }

  const roots = section.roots ?? DEFAULT_ROOTS;
  if (!Array.isArray(roots) || roots.length === 0 || !roots.every((r) => typeof r === 'string')) {
    fail(file, `[provium] roots must be a non-empty list of directory paths, e.g. roots = ["tests"]; got ${JSON.stringify(roots)}`);
  }
  const problem = (roots as string[]).map((r) => rootProblem(r, path.resolve(baseDir, r))).find((p) => p !== undefined);
  if (problem) fail(file, `[provium] roots: ${problem}`);
  const cacheDir = section.cache_dir;
  if (cacheDir !== undefined && typeof cacheDir !== 'string') fail(file, `[provium] cache_dir must be a path string; got ${JSON.stringify(cacheDir)}`);
  const maxSizeRaw = section.cache_max_size ?? DEFAULT_CACHE_MAX_SIZE;
  const cacheMaxSize = typeof maxSizeRaw === 'number' ? maxSizeRaw : typeof maxSizeRaw === 'string' ? parseSizeText(maxSizeRaw) : undefined;
  // At every run the (shared) fixture cache is trimmed to this size: 0 or less would empty it each time.
  if (cacheMaxSize === undefined || !Number.isSafeInteger(cacheMaxSize) || cacheMaxSize <= 0) {
    fail(file, `[provium] cache_max_size = ${typeof maxSizeRaw === 'number' ? String(maxSizeRaw) : JSON.stringify(maxSizeRaw)}: expected a size above 0, a whole number of bytes or with a unit ("512M", "20G"); the fixture cache, shared by the projects that use it, is trimmed to it at every run, and 0 or less would empty it each time`);
  }
  let timeout = DEFAULT_FILE_TIMEOUT_S;
  if (section.timeout !== undefined) {
    try {
      timeout = parseFileTimeout(section.timeout as number | string, '[provium] timeout');
    } catch (e) {
      fail(file, (e as Error).message);
    }
  }
  return {
    file,
    baseDir,
    roots: (roots as string[]).map((r) => path.resolve(baseDir, r)),
    cacheDir: cacheDir === undefined ? undefined : path.resolve(baseDir, cacheDir),
    cacheMaxSize,
    timeout,
    toml,
    remote: readRemoteCacheSection(section, file),
  };
}
