/**
 * os.tmpname / io.tmpfile files: `/tmp/lua_XXXXXX` as real Lua names them
 * (so the same path is usable in a guest, which has /tmp too), created empty
 * with mode 0600 like mkstemp, and removed when the Lua file ends.
 */
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import type { Runtime } from '../runtime/runtime.js';

// Real Lua's LUA_TMPNAMTEMPLATE; not os.tmpdir(): $TMPDIR means nothing in the guest.
const TEMPLATE_DIR = '/tmp';
const SUFFIX_CHARS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const ATTEMPTS = 100;

const made = new WeakMap<Runtime, string[]>();

function randomSuffix(): string {
  return [...randomBytes(6)].map((b) => SUFFIX_CHARS[b % SUFFIX_CHARS.length]).join('');
}

/** A new empty file's path (exclusive create, so the name cannot be taken by someone else). */
export function newTempFile(rt: Runtime): string {
  let files = made.get(rt);
  if (files === undefined) {
    const list: string[] = [];
    files = list;
    made.set(rt, list);
    // recursive: the test may have turned its name into a directory.
    rt.fileScope.onEnd(() => {
      for (const file of list) rmSync(file, { recursive: true, force: true });
    });
  }
  for (let i = 0; i < ATTEMPTS; i++) {
    const file = `${TEMPLATE_DIR}/lua_${randomSuffix()}`;
    try {
      writeFileSync(file, '', { flag: 'wx', mode: 0o600 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw e;
    }
    files.push(file);
    return file;
  }
  throw new Error(`no free name of the form ${TEMPLATE_DIR}/lua_XXXXXX after ${ATTEMPTS} tries; clear out ${TEMPLATE_DIR}`);
}
