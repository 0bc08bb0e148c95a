/**
 * `require` over the roots: fengari's own `require` (already yieldable: it calls
 * loaders with continuations, so helpers may make host calls at load time) with
 * the searchers replaced by package.preload and a Lua-file searcher that names
 * chunks by their path relative to the working directory. No JS/C modules.
 */
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { lauxlib, lua, type LuaState } from '../lua/api.js';
import { pushText, raise, rawErrorText, toText } from '../lua/values.js';
import { loadChunkCached } from './chunk-cache.js';
import { jsFunctionAt, markYieldable } from './non-yieldable.js';
import { runtimeOf } from './runtime.js';

/** `package.path` for the roots: `<root>/?.lua;<root>/?/init.lua` each. */
export function packagePath(roots: readonly string[]): string {
  return roots.map((r) => `${r}/?.lua;${r}/?/init.lua`).join(';');
}

/** The path shown in messages: relative to the working directory when below it. */
export function displayPath(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return (rel.startsWith('..') || path.isAbsolute(rel) ? file : rel).split(path.sep).join('/');
}

/**
 * Loads Lua source as a chunk named `@<display>`, through the file's chunk
 * cache when it has one; a leading `#!` line is kept as a comment.
 */
export function loadSource(L: LuaState, source: Uint8Array, display: string): number {
  if (source[0] === 0x23 /* # */) {
    const copy = Buffer.from(source);
    copy[0] = 0x2d; // '#!...' → '-!...': a comment, line numbers unchanged
    source = Buffer.concat([Buffer.from('-'), copy]);
  }
  const cacheDir = runtimeOf(L).task.chunkCacheDir;
  return cacheDir === undefined ? lauxlib.luaL_loadbuffer(L, source, null, `@${display}`) : loadChunkCached(L, source, `@${display}`, cacheDir);
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

function searchRoots(L: LuaState): number {
  const name = toText(L, 1);
  lua.lua_getfield(L, lua.LUA_REGISTRYINDEX, '_LOADED');
  lua.lua_getfield(L, -1, 'package');
  lua.lua_getfield(L, -1, 'path');
  const templates = lua.lua_type(L, -1) === lua.LUA_TSTRING ? toText(L, -1).split(';') : [];
  lua.lua_pop(L, 3);
  const tried: string[] = [];
  for (const template of templates) {
    if (template === '') continue;
    const file = template.replaceAll('?', name.replaceAll('.', '/'));
    if (!isFile(file)) {
      tried.push(`\n\tno file '${file}'`);
      continue;
    }
    if (loadSource(L, readFileSync(file), displayPath(file)) !== lua.LUA_OK) {
      raise(L, `error loading module '${name}' from file '${displayPath(file)}':\n\t${rawErrorText(L, -1)}`, 0);
    }
    pushText(L, file);
    return 2;
  }
  pushText(L, tried.join(''));
  return 1;
}

/** Points `package` at the roots and keeps only the preload and roots searchers. */
export function setUpRequire(L: LuaState, roots: readonly string[]): void {
  lua.lua_getglobal(L, 'package');
  pushText(L, packagePath(roots));
  lua.lua_setfield(L, -2, 'path');
  lua.lua_pushstring(L, '');
  lua.lua_setfield(L, -2, 'cpath');
  lua.lua_getfield(L, -1, 'searchers');
  lua.lua_pushcfunction(L, searchRoots);
  lua.lua_rawseti(L, -2, 2);
  lua.lua_pushnil(L);
  lua.lua_rawseti(L, -2, 3);
  lua.lua_pushnil(L);
  lua.lua_rawseti(L, -2, 4);
  lua.lua_pop(L, 2);
  lua.lua_getglobal(L, 'require');
  markYieldable(jsFunctionAt(L, -1)!);
  lua.lua_pop(L, 1);
}
