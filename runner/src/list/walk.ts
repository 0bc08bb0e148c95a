/** The Lua files under a root, walked within bounds: a root holds tests, it is not a disk. */
import { readdirSync, type Dirent } from 'node:fs';
import path from 'node:path';
import { MAX_ROOT_ENTRIES } from '@provium/types';
import { UsageError } from '../errors.js';

/**
 * Every *.lua file under `dir`, skipping dot-directories and node_modules,
 * appended to `out`. Errors (a directory that cannot be read, more than
 * `maxEntries` entries) begin with `where` the root comes from and end with `advice`.
 */
export function walkLuaFiles(dir: string, out: string[], where: string, advice: string, maxEntries = MAX_ROOT_ENTRIES): void {
  let seen = 0;
  const walk = (d: string) => {
    let entries: Dirent[];
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
      throw new UsageError(`${where}: cannot read ${d} (${code}): make it readable, or ${advice}`);
    }
    for (const entry of entries) {
      if (entry.name.startsWith('.') || entry.name === 'node_modules') continue;
      if (++seen > maxEntries) throw new UsageError(`${where}: more than ${maxEntries} files and directories under ${dir}: ${advice}`);
      const full = path.join(d, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile() && entry.name.endsWith('.lua')) out.push(full);
    }
  };
  walk(dir);
}
