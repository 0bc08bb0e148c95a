/** FailureInfo from a Lua error: message without its "file:line: " prefix, the location, a traceback. */
import type { FailureInfo } from '@provium/types';
import { lauxlib, lua, type LuaState } from '../lua/api.js';
import { authorLocation, traceback, type SourceLocation } from '../lua/debug-info.js';
import { bytesToText, rawErrorText } from '../lua/values.js';

const PREFIX = /^([^\n]*?\.lua):(\d+): /;

/**
 * Text of the error value on top of the dead thread `co`; moves it to `L` (a dead
 * thread's stack cannot grow) and runs __tostring in protected mode if it has one.
 */
export function errorValueText(L: LuaState, co: LuaState): string {
  lua.lua_xmove(co, L, 1);
  const t = lua.lua_type(L, -1);
  let text: string | undefined;
  if (t === lua.LUA_TTABLE || t === lua.LUA_TUSERDATA) {
    lua.lua_pushcfunction(L, tostringTop);
    lua.lua_insert(L, -2);
    if (lua.lua_pcall(L, 1, 1, 0) === lua.LUA_OK) text = bytesToText(lua.lua_tolstring(L, -1) ?? new Uint8Array());
  }
  text ??= rawErrorText(L, -1);
  lua.lua_pop(L, 1);
  return text;
}

function tostringTop(L: LuaState): number {
  lauxlib.luaL_tolstring(L, 1);
  return 1;
}

/** Splits "file.lua:12: message" into location and message; a truncated "...name.lua" is completed from `fallback`. */
export function splitLocation(message: string, fallback: SourceLocation | undefined): { message: string; location: SourceLocation | undefined } {
  const m = PREFIX.exec(message);
  if (!m) return { message, location: fallback };
  let file = m[1];
  const line = Number(m[2]);
  if (file.startsWith('...') && fallback && fallback.file.endsWith(file.slice(3))) file = fallback.file;
  return { message: message.slice(m[0].length), location: { file, line } };
}

/** The failure for a thread that died with an error (its stack is still there to read). */
export function failureFromThread(L: LuaState, co: LuaState): FailureInfo {
  const text = errorValueText(L, co);
  const { message, location } = splitLocation(text, authorLocation(co, 0));
  return { message, location, traceback: traceback(L, co, 0) };
}
