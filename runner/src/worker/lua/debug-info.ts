/** Reading the Lua call stack: where the author's code stands. */
import { lauxlib, lua, to_luastring, type LuaState } from './api.js';
import { bytesToText } from './values.js';

const SL = to_luastring('Sl');
const AT = 64; // '@' starts the chunk name of a file

export interface SourceLocation {
  file: string;
  line: number;
}

/** The first frame at or above `level` running a line of a Lua file: the author's code. */
export function authorLocation(L: LuaState, level = 1): SourceLocation | undefined {
  const ar = new lua.lua_Debug();
  for (let lv = level; lua.lua_getstack(L, lv, ar); lv++) {
    lua.lua_getinfo(L, SL, ar);
    if (ar.currentline > 0 && ar.source !== null && ar.source[0] === AT) {
      return { file: bytesToText(ar.source.subarray(1)), line: ar.currentline };
    }
  }
  return undefined;
}

/** Lua's stack traceback of thread `L1` from `level` (runs no Lua code; uses L's stack). */
export function traceback(L: LuaState, L1: LuaState, level: number): string {
  lauxlib.luaL_traceback(L, L1, null, level);
  const text = bytesToText(lua.lua_tolstring(L, -1)!);
  lua.lua_pop(L, 1);
  return text;
}
