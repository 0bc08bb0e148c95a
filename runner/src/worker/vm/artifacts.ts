/** Where a failed test's artifacts go: `.provium/artifacts/<file>/<test>/` under the working directory. */
import path from 'node:path';
import type { FileServices } from '../binding/registry.js';

/** A name made safe for a path component. */
export const slug = (s: string) => s.replace(/[^A-Za-z0-9._-]+/g, '_');

export function artifactDir(services: FileServices, test: string): string {
  return path.resolve('.provium', 'artifacts', slug(services.task.displayPath), slug(test));
}
