/**
 * The fengari namespaces, typed, plus the one place that reaches into a fengari
 * internal: `globalOf(L)`, the state's shared global object, used as the key that
 * maps every thread of a Lua state to its per-file Runtime.
 */
import fengari from 'fengari';
import type { LuaState } from 'fengari';

export type { LuaState, LuaCFunction, LuaKFunction, LuaHook, LuaString, lua_Debug as LuaDebug } from 'fengari';
export const { lua, lauxlib, lualib, to_luastring } = fengari;

/** fengari's `global_State`: one object shared by all threads of a Lua state. */
export function globalOf(L: LuaState): object {
  return (L as unknown as { l_G: object }).l_G;
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
