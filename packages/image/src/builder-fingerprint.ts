/**
 * A hash of this package's own code (the .js files next to this module, or
 * the .ts files when run from source). Part of every image key, so that a
 * changed builder rebuilds its images instead of serving stale ones.
 */
import { readdir, readFile } from 'node:fs/promises';
import { dirname, extname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sha256 } from './hash.js';

let fingerprint: Promise<string> | undefined;

async function compute(): Promise<string> {
  const self = fileURLToPath(import.meta.url);
  const root = dirname(self);
  const ext = extname(self);
  const parts: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.name.endsWith(ext) && !entry.name.endsWith(`.d${ext}`) && !entry.name.includes('.test.')) {
        parts.push(relative(root, full), sha256(await readFile(full)));
      }
    }
  };
  await walk(root);
  return sha256(parts.join('\n'));
}

export function builderFingerprint(): Promise<string> {
  fingerprint ??= compute();
  return fingerprint;
}
