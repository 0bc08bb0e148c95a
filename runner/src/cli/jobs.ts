/**
 * How many worker threads `provium test` starts: -j (default: one per CPU), at
 * most one per test file (more would idle) and at most what the free memory
 * holds: thousands of threads (a typo: -j 10000) took gigabytes.
 */
import os from 'node:os';
import { defaultJobs } from '../config/defaults.js';

/** What a worker thread may come to take (its Lua states, a VM test's buffers) unless PROVIUM_WORKER_MAX_HEAP_MB caps it. */
export const WORKER_MEMORY_MB = 64;

const MiB = 1024 * 1024;

/** Free memory, bytes: the host's, or the cgroup's limit when lower. */
function freeMemory(): number {
  const limit = process.constrainedMemory?.() ?? 0;
  return Math.min(os.freemem(), limit > 0 ? limit : Infinity);
}

/** The thread count for `files` files; `notice` says why it is below -j `requested` when memory is the reason. */
export function workerThreads(requested: number | undefined, files: number, maxHeapMb: number | undefined, notice: (m: string) => void): number {
  const wanted = Math.min(requested ?? defaultJobs(), files);
  const perThreadMb = maxHeapMb ?? WORKER_MEMORY_MB;
  const free = freeMemory();
  const fit = Math.max(1, Math.floor(free / (perThreadMb * MiB)));
  if (wanted <= fit) return wanted;
  const asked = requested === undefined ? `one worker thread per CPU (${wanted})` : `-j ${requested}`;
  notice(
    `${asked}: running ${fit} worker thread${fit === 1 ? '' : 's'}: ${(free / 1024 ** 3).toFixed(1)} GiB of memory is free and each thread may take up to ${perThreadMb} MiB` +
      (maxHeapMb === undefined ? ' (PROVIUM_WORKER_MAX_HEAP_MB caps it)' : ' (PROVIUM_WORKER_MAX_HEAP_MB)'),
  );
  return fit;
}
