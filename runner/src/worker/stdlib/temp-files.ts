/** os.tmpname / io.tmpfile files: created in a per-file temporary directory that is removed when the file ends. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Runtime } from '../runtime/runtime.js';

const dirs = new WeakMap<Runtime, { dir: string; next: number }>();

/** A new empty file's path (like mkstemp, so the name cannot be taken by someone else). */
export function newTempFile(rt: Runtime): string {
  let entry = dirs.get(rt);
  if (entry === undefined) {
    const dir = mkdtempSync(path.join(tmpdir(), 'provium-lua-'));
    entry = { dir, next: 1 };
    dirs.set(rt, entry);
    rt.fileScope.onEnd(() => rmSync(dir, { recursive: true, force: true }));
  }
  const file = path.join(entry.dir, `lua_${entry.next++}`);
  writeFileSync(file, '', { flag: 'wx' });
  return file;
}
