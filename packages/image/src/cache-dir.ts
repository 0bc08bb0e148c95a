import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * Root of Provium's cache: the explicit option, else $PROVIUM_CACHE_DIR, else
 * $XDG_CACHE_HOME/provium, else ~/.cache/provium. Images live in `images/` below it.
 */
export function proviumCacheRoot(explicit?: string): string {
  if (explicit) return resolve(explicit);
  if (process.env.PROVIUM_CACHE_DIR) return resolve(process.env.PROVIUM_CACHE_DIR);
  const xdg = process.env.XDG_CACHE_HOME;
  return join(xdg ? resolve(xdg) : join(homedir(), '.cache'), 'provium');
}

/** Directory of built images and downloads: `<cache root>/images`. */
export function imageCacheDir(explicit?: string): string {
  return join(proviumCacheRoot(explicit), 'images');
}
