/**
 * The main thread's side of the compiled-chunk cache (the workers read and
 * write it: runner/src/worker/runtime/chunk-cache.ts): where it lives, and
 * its trimming after a run.
 */
import { readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { proviumCacheRoot } from '@provium/image/cache-dir';
import { processAlive } from './process-alive.js';

/** Entries kept; beyond that the oldest written go (a chunk that is still used is simply compiled again). */
const MAX_ENTRIES = 4096;
const TRIM_TO = 3072;

/** `<cache root>/chunks`, the cache root as for images and fixtures (docs/configuration.md). */
export function chunkCacheDir(configuredCacheDir: string | undefined): string {
  return path.join(proviumCacheRoot(configuredCacheDir), 'chunks');
}

/** Removes partial entries of writers that are gone, and the oldest entries beyond MAX_ENTRIES. */
export function trimChunkCache(dir: string, maxEntries = MAX_ENTRIES, trimTo = TRIM_TO): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return; // nothing cached yet
  }
  for (const n of names) {
    const pid = Number(/\.partial-(\d+)-/.exec(n)?.[1]);
    if (pid && pid !== process.pid && !processAlive(pid)) rmSync(path.join(dir, n), { force: true });
  }
  const entries = names.filter((n) => n.endsWith('.luac'));
  if (entries.length <= maxEntries) return;
  const byAge = entries
    .map((n) => {
      try {
        return { n, at: statSync(path.join(dir, n)).mtimeMs };
      } catch {
        return { n, at: 0 };
      }
    })
    .sort((a, b) => a.at - b.at);
  for (const { n } of byAge.slice(0, entries.length - trimTo)) rmSync(path.join(dir, n), { force: true });
}
