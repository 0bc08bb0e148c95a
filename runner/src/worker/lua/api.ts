/**
 * The fengari namespaces, typed, plus the one place that reaches into a fengari
 * internal: `globalOf(L)`, the state's shared global object, used as the key that
 * maps every thread of a Lua state to its per-file Runtime.
 */
// First: patches fengari's string hashing before fengari's modules load (see there).
import { luaKey } from '../runtime/fengari-internals.js';
import fengari from 'fengari';
import type { LuaCFunction, LuaState } from 'fengari';

export type { LuaState, LuaCFunction, LuaKFunction, LuaHook, LuaString, lua_Debug as LuaDebug } from 'fengari';
export const { lauxlib, lualib, to_luastring } = fengari;

const raw = fengari.lua;
const key = (k: string | Uint8Array) => (typeof k === 'string' ? luaKey(k) : k);
/** fengari's `lua` namespace; names given as JS strings to the field and global functions use shared Lua strings (see luaKey). */
export const lua: typeof raw = {
  ...raw,
  lua_getfield: (L, idx, k) => raw.lua_getfield(L, idx, key(k)),
  lua_setfield: (L, idx, k) => raw.lua_setfield(L, idx, key(k)),
  lua_getglobal: (L, name) => raw.lua_getglobal(L, key(name)),
  lua_setglobal: (L, name) => raw.lua_setglobal(L, key(name)),
};

/** As luaL_setfuncs(L, fns, 0) into the table on top, with the names as shared Lua strings (see luaKey). */
export function setFunctions(L: LuaState, fns: Record<string, LuaCFunction>): void {
  for (const name in fns) {
    lua.lua_pushcfunction(L, fns[name]);
    lua.lua_setfield(L, -2, name);
  }
}

/** fengari's `global_State`: one object shared by all threads of a Lua state. */
export function globalOf(L: LuaState): object {
  return (L as unknown as { l_G: object }).l_G;
}

/**
 * A per-state value kept as a property of the state's global object. Not a
 * WeakMap keyed by it: those values refer back to their key (Runtime → L →
 * l_G), and V8's young-generation GC keeps such entries alive, so every
 * finished file's Lua state used to be promoted and pile up until a full GC.
 */
export function stateSlot<T extends object>(name: string): { get(L: LuaState): T | undefined; set(L: LuaState, value: T): void } {
  const key = Symbol(name);
  return {
    get: (L) => (globalOf(L) as Record<symbol, T | undefined>)[key],
    set: (L, value) => {
      (globalOf(L) as Record<symbol, T | undefined>)[key] = value;
    },
  };
}

const CIST_HOOKED = 1 << 2;

/**
 * Undoes what fengari's luaD_hook set up around a hook call, for a hook that is
 * about to raise an error: the raise skips the hook's epilogue, and without
 * this, hooks stay disabled while an xpcall message handler runs (so a handler
 * that loops could never be stopped). Reaches into fengari internals.
 */
export function leaveHook(L: LuaState): void {
  const s = L as unknown as { allowhook: number; ci: { callstatus: number } };
  s.allowhook = 1;
  s.ci.callstatus &= ~CIST_HOOKED;
}
