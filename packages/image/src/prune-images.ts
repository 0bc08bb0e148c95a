/**
 * The image cache keeps one directory per set of inputs, so every upgrade of
 * Provium (a new agent, kernel or builder) adds a default and a debian image
 * (the latter ~1 GB). A hit marks its entry used (the directory's mtime); a
 * build removes the entries no run has used for UNUSED_IMAGE_MS. An entry in
 * use by a run is never that old; one removed is built again when next asked for.
 */
import { readdir, rm, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { moveAside } from './atomic-install.js';

export const UNUSED_IMAGE_MS = 7 * 24 * 60 * 60 * 1000;

/** Built images and injected initrds: `<kind>-<32 hex>`; downloads and other files are left alone. */
const ENTRY = /^[a-z]+-[0-9a-f]{32}$/;

/** After installDirOnce: a hit marks `dir` used, a build prunes the entries unused for `maxAgeMs`. */
export async function settleImageEntry(imagesDir: string, dir: string, built: boolean, maxAgeMs = UNUSED_IMAGE_MS): Promise<void> {
  if (built) await pruneUnusedImages(imagesDir, dir, maxAgeMs);
  else await markUsed(dir);
}

async function markUsed(dir: string): Promise<void> {
  const now = new Date();
  // Best effort: a read-only cache still serves its images.
  await utimes(dir, now, now).catch(() => {});
}

/** Removes the entries of `imagesDir` other than `keep` last used more than `maxAgeMs` ago. */
async function pruneUnusedImages(imagesDir: string, keep: string, maxAgeMs: number): Promise<void> {
  const cutoff = Date.now() - maxAgeMs;
  for (const name of await readdir(imagesDir)) {
    const dir = join(imagesDir, name);
    if (dir === keep || !ENTRY.test(name)) continue;
    const info = await stat(dir).catch(() => undefined);
    if (!info?.isDirectory() || info.mtimeMs >= cutoff) continue;
    // Renamed aside first (gone already when another process pruned it), so no reader ever sees half an entry.
    // Housekeeping: an entry that cannot be moved stays, and the image just built is still served.
    await moveAside(imagesDir, dir).then((holder) => rm(holder, { recursive: true, force: true }), () => {});
  }
}
