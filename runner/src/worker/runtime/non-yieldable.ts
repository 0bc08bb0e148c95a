/**
 * Naming the construct that keeps a host call from suspending: Lua cannot yield
 * across a C (here: JS) function that called back into Lua without a
 * continuation, such as the comparator of table.sort. The error names that
 * function, found on the call stack, instead of Lua's "attempt to yield across
 * a C-call boundary".
 */
import { lua, to_luastring, type LuaCFunction, type LuaState } from '../lua/api.js';
import { bytesToText } from '../lua/values.js';

/** JS functions that call Lua with a continuation (pcall, coroutine.resume, ...): no boundary. */
const yieldable = new Set<LuaCFunction>();
/** JS functions that name themselves in this message (host API methods): label from the function on top of the stack. */
const labelled = new Map<LuaCFunction, (L: LuaState) => string>();
let libraryNames: Map<LuaCFunction, string> | undefined;

/** The JS function behind the function value at `idx` (plain or closure); null for Lua functions. */
export function jsFunctionAt(L: LuaState, idx: number): LuaCFunction | null {
  const v = lua.lua_tocfunction(L, idx);
  return v === null ? null : typeof v === 'function' ? v : v.f;
}

export function markYieldable(...fns: LuaCFunction[]): void {
  for (const f of fns) yieldable.add(f);
}

export function markLabelled(fn: LuaCFunction, label: (L: LuaState) => string): void {
  labelled.set(fn, label);
}

const NSF = to_luastring('nSf');
const GENERIC = 'a table.sort comparator, a string.gsub callback, a metamethod or iterator called by a library function, an xpcall message handler or a debug hook';

export function nonYieldableMessage(L: LuaState, what: string): string {
  return `${what} cannot be called inside ${findConstruct(L)}: Lua cannot pause there to wait for the runner; move the call outside`;
}

function findConstruct(L: LuaState): string {
  const ar = new lua.lua_Debug();
  let below: { namewhat: string; name: string } | undefined;
  let fallback: string | undefined;
  for (let level = 1; lua.lua_getstack(L, level, ar); level++) {
    lua.lua_getinfo(L, NSF, ar);
    const namewhat = ar.namewhat ? bytesToText(ar.namewhat) : '';
    const name = ar.name ? bytesToText(ar.name) : '?';
    if (namewhat === 'hook') {
      lua.lua_pop(L, 1);
      return 'a debug hook function (debug.sethook)';
    }
    const fn = jsFunctionAt(L, -1);
    if (fn !== null && !yieldable.has(fn)) {
      const label = labelled.get(fn);
      if (label !== undefined) {
        fallback ??= describe(label(L), below);
      } else {
        lua.lua_pop(L, 1);
        return describe(libraryName(L, fn), below);
      }
    }
    lua.lua_pop(L, 1);
    below = { namewhat, name };
  }
  return fallback ?? GENERIC;
}

function describe(caller: string, below: { namewhat: string; name: string } | undefined): string {
  switch (caller) {
    case 'table.sort':
      return 'a table.sort comparator';
    case 'string.gsub':
      return 'a string.gsub replacement function';
    case 'load':
      return 'a load() reader function';
    case 'error':
      return 'an xpcall message handler';
  }
  if (below?.namewhat === 'metamethod') return `a ${below.name} metamethod called by ${caller}`;
  if (caller === 'tostring' || caller === 'print' || caller === 'string.format') return `a __tostring metamethod called by ${caller}`;
  return `a callback or metamethod called by ${caller}`;
}

/** "table.sort" for the function on top of the stack, from the standard libraries of this state. */
function libraryName(L: LuaState, fn: LuaCFunction): string {
  libraryNames ??= collectLibraryNames(L);
  return libraryNames.get(fn) ?? 'a library (JS) function';
}

function collectLibraryNames(L: LuaState): Map<LuaCFunction, string> {
  const names = new Map<LuaCFunction, string>();
  const addTable = (prefix: string) => {
    lua.lua_pushnil(L);
    while (lua.lua_next(L, -2)) {
      if (lua.lua_type(L, -2) === lua.LUA_TSTRING) {
        const f = jsFunctionAt(L, -1);
        if (f !== null && !names.has(f)) names.set(f, prefix + bytesToText(lua.lua_tolstring(L, -2)!));
      }
      lua.lua_pop(L, 1);
    }
  };
  lua.lua_getfield(L, lua.LUA_REGISTRYINDEX, '_LOADED');
  for (const lib of ['string', 'table', 'math', 'os', 'io', 'coroutine', 'utf8', 'debug', 'package']) {
    if (lua.lua_getfield(L, -1, lib) === lua.LUA_TTABLE) addTable(lib + '.');
    lua.lua_pop(L, 1);
  }
  lua.lua_pop(L, 1);
  lua.lua_pushglobaltable(L);
  addTable('');
  lua.lua_pop(L, 1);
  return names;
}
