/**
 * Compiled Lua chunks, cached on disk by content: `<dir>/<key>.luac`, the
 * key a hash of the chunk name, the source and the fengari version. fengari's
 * parser was the largest single cost of a quick test file (a third of a
 * worker's time on a suite of small files); loading the dumped chunk takes
 * about a quarter of that. Chunks keep their debug information, so messages
 * and tracebacks are the same as from the source.
 *
 * Best effort: an unreadable or damaged entry is parsed again and rewritten,
 * an unwritable directory only costs the parse. Entries are written to a
 * name with the writer's pid and thread, then renamed into place; the main
 * thread trims the directory (see runner/src/orchestrator/chunk-cache-trim.ts).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { threadId } from 'node:worker_threads';
import { lauxlib, lua, type LuaState } from '../lua/api.js';

/** Bumped when what is cached changes meaning. */
const FORMAT = 1;
const FENGARI_VERSION = (createRequire(import.meta.url)('fengari/package.json') as { version: string }).version;
const madeDirs = new Set<string>();

export function chunkKey(chunkName: string, source: Uint8Array): string {
  return createHash('sha256').update(`provium-chunk ${FORMAT} fengari ${FENGARI_VERSION}\0${chunkName}\0`).update(source).digest('hex').slice(0, 40);
}

/** Pushes the compiled chunk of `source` (as luaL_loadbuffer would), from `dir` when it holds it. */
export function loadChunkCached(L: LuaState, source: Uint8Array, chunkName: string, dir: string): number {
  const file = path.join(dir, `${chunkKey(chunkName, source)}.luac`);
  let compiled: Buffer | undefined;
  try {
    compiled = readFileSync(file);
  } catch {
    // not cached yet
  }
  if (compiled !== undefined) {
    if (lauxlib.luaL_loadbufferx(L, compiled, compiled.length, chunkName, 'b') === lua.LUA_OK) return lua.LUA_OK;
    lua.lua_pop(L, 1); // a damaged entry: parse, and write it again
  }
  const status = lauxlib.luaL_loadbuffer(L, source, null, chunkName);
  if (status === lua.LUA_OK) store(L, file);
  return status;
}

function store(L: LuaState, file: string): void {
  const parts: Uint8Array[] = [];
  lua.lua_dump(L, (_L: LuaState, block: Uint8Array, size: number) => {
    parts.push(Uint8Array.prototype.slice.call(block, 0, size));
    return 0;
  }, null, false);
  const dir = path.dirname(file);
  const partial = `${file}.partial-${process.pid}-${threadId}`;
  try {
    if (!madeDirs.has(dir)) {
      mkdirSync(dir, { recursive: true });
      madeDirs.add(dir);
    }
    writeFileSync(partial, Buffer.concat(parts));
    renameSync(partial, file);
  } catch {
    // A read-only or full disk, or no directory: run from the source.
    try {
      rmSync(partial, { force: true });
    } catch {
      // there was no directory to write in
    }
  }
}
