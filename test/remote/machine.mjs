/**
 * A CI "machine" on this one: a fresh, empty cache root of its own (for
 * PROVIUM_CACHE_DIR) that shares only the built guest images with this
 * machine's cache, so no test or bench builds them again. Plain JavaScript:
 * the tests and the benches (bench/remote-cache, bench/shard) all use it.
 */
import { mkdirSync, mkdtempSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { imageCacheDir } from '../../packages/image/dist/cache-dir.js';

/**
 * @param {string} prefix  where the cache root is made: mkdtemp's prefix (`<dir>/machine-`)
 * @returns {string} the new cache root
 */
export function newMachine(prefix) {
  const root = mkdtempSync(prefix);
  const images = imageCacheDir();
  mkdirSync(images, { recursive: true });
  symlinkSync(images, path.join(root, 'images'));
  return root;
}
