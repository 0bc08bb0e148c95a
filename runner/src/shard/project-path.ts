/** How shards and timings name a test file: by its path relative to the project root, so that every machine names it alike. */
import path from 'node:path';

/** `abs` relative to `baseDir` (provium.toml's directory, else the working directory), forward slashes. */
export function projectPath(baseDir: string, abs: string): string {
  return path.relative(baseDir, abs).split(path.sep).join('/');
}
