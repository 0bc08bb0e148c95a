/**
 * Which test files a run of `provium test` takes: those discovered under the
 * paths (or the roots), narrowed by `--rerun-failed`, `--since` and `--shard`
 * in that order.
 */
import { statSync } from 'node:fs';
import path from 'node:path';
import type { ShardSpec } from '@provium/types';
import { loadConfig, type ResolvedConfig } from '../config/load.js';
import { UsageError } from '../errors.js';
import type { FixtureGraph } from '../fixtures/graph.js';
import { discover, type Discovery } from '../list/discover.js';
import type { SelectedShard } from '../shard/select.js';
import { readRerunState, rerunStatePath } from './rerun-state.js';

export interface FileOptions {
  config?: string;
  rerunFailed?: boolean;
  since?: string;
  shard?: ShardSpec;
  durations: string[];
}

export type TestFiles =
  | { config: ResolvedConfig; found: Discovery; graph: FixtureGraph | undefined; shard: SelectedShard | undefined }
  /** Nothing to run, and why (not an error: exit 0). */
  | { nothing: string }
  /** No *.test.lua under the paths (not an error: exit 0, reported as a `no_files` event); `looked` is where. */
  | { config: ResolvedConfig; found: Discovery; looked: string[] };

export async function selectTestFiles(paths: string[], o: FileOptions, cwd: string, warn: (m: string) => void): Promise<TestFiles> {
  const config = loadConfig(cwd, o.config);
  const found = discover(paths, config, cwd);
  // The rerun state first: with none, there is nothing to re-run wherever the tests are.
  const failed = o.rerunFailed ? new Set(readRerunState(rerunStatePath(), cwd)) : undefined;
  if (failed?.size === 0) return { nothing: `--rerun-failed: no failed files are recorded in ${rerunStatePath()} (a run with failures records them): nothing to re-run` };
  if (found.tests.length === 0) return { config, found, looked: paths.length ? paths : found.roots.map((r) => path.relative(cwd, r) || '.') };
  if (failed) {
    found.tests = found.tests.filter((t) => failed.has(t.path));
    if (found.tests.length === 0) return { nothing: `--rerun-failed: none of the ${failed.size} file${failed.size === 1 ? '' : 's'} that failed last run (${rerunStatePath()}) is among the selected test files: nothing to re-run` };
  }
  if (o.since !== undefined) {
    const since = referenceTime(path.resolve(cwd, o.since), o.since);
    found.tests = found.tests.filter((t) => (statSync(t.path, { bigint: true, throwIfNoEntry: false })?.mtimeNs ?? 0n) > since);
    if (found.tests.length === 0) return { nothing: `--since ${o.since}: no selected test file was modified after it: nothing to run` };
  }
  // A fixture cycle or an unknown fixture: a warning now, an error in the tests that use it.
  const graph = await (await import('../fixtures/graph-check.js')).checkFixtureGraph(found, warn);
  const shard = o.shard || o.durations.length > 0 ? (await import('./shard-option.js')).shardFiles(found, o, { cwd, baseDir: config.baseDir, graph }) : undefined;
  if (shard) found.tests = shard.tests;
  return { config, found, graph, shard };
}

/** --since PATH's modification time in ns (mtimeMs would tie two writes in the same millisecond). */
function referenceTime(file: string, shown: string): bigint {
  try {
    return statSync(file, { bigint: true }).mtimeNs;
  } catch (e) {
    throw new UsageError(`--since ${shown}: cannot read its modification time: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (e as Error).message}`);
  }
}
