/**
 * The fengari namespaces, typed, plus the places that reach into fengari
 * internals: `globalOf(L)`, the state's shared global object, used as the key that
 * maps every thread of a Lua state to its per-file Runtime; and the hook state
 * around errors (`leaveHook`, and `lua_pcallk`, which keeps hooks on after a
 * caught error).
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
  lua_pcallk: (L, nargs, nresults, errfunc, ctx, k) => {
    saveAllowhook(L);
    return raw.lua_pcallk(L, nargs, nresults, errfunc, ctx, k);
  },
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
 * A value kept as a property of `ownerOf(L)` under a symbol of its own. Not a
 * WeakMap keyed by the owner: such values refer back to their key (Runtime →
 * L → l_G), and V8's young-generation GC keeps those entries alive, so every
 * finished file's Lua state used to be promoted and pile up until a full GC.
 */
interface Slot<T> {
  get(L: LuaState): T | undefined;
  set(L: LuaState, value: T): void;
  delete(L: LuaState): void;
}

function slotOn<T>(name: string, ownerOf: (L: LuaState) => object): Slot<T> {
  const key = Symbol(name);
  const at = (L: LuaState) => ownerOf(L) as Record<symbol, T | undefined>;
  return {
    get: (L) => at(L)[key],
    set: (L, value) => {
      at(L)[key] = value;
    },
    delete: (L) => {
      delete at(L)[key];
    },
  };
}

/** A value per Lua state, shared by all its threads (kept on the state's global object). */
export const stateSlot = <T>(name: string): Slot<T> => slotOn<T>(name, globalOf);

/** A value per Lua thread (kept on the thread itself). */
export const threadSlot = <T>(name: string): Slot<T> => slotOn<T>(name, (L) => L as object);

const CIST_OAH = 1 << 0;
const CIST_HOOKED = 1 << 2;

/**
 * Does what fengari's lua_pcallk means to do before a yieldable protected call:
 * save `allowhook` in the call's CIST_OAH bit, which restores it when the call
 * catches an error. fengari's `ci.callstatus &= ~CIST_OAH | allowhook` can clear
 * the bit but never sets it, so every caught error turned hooks off for good,
 * the watchdog's count hook with them: `while true do pcall(error) end` ran on.
 */
function saveAllowhook(L: LuaState): void {
  const s = L as unknown as { allowhook: number; ci: { callstatus: number } };
  s.ci.callstatus = (s.ci.callstatus & ~CIST_OAH) | s.allowhook;
}

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
