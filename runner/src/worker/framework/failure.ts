/** FailureInfo from a Lua error: message without its "file:line: " prefix, the location, a traceback. */
import type { FailureInfo } from '@provium/types';
import { lauxlib, lua, type LuaState } from '../lua/api.js';
import { authorLocation, traceback, type SourceLocation } from '../lua/debug-info.js';
import { bytesToText, rawErrorText } from '../lua/values.js';

const PREFIX = /^([^\n]*?\.lua):(\d+): /;

/** Text of the error value on top of `co` (running __tostring in protected mode on `L` if there is one). */
export function errorValueText(L: LuaState, co: LuaState): string {
  const t = lua.lua_type(co, -1);
  if (t === lua.LUA_TTABLE || t === lua.LUA_TUSERDATA) {
    lua.lua_pushvalue(co, -1);
    lua.lua_xmove(co, L, 1);
    lua.lua_pushcfunction(L, tostringTop);
    lua.lua_insert(L, -2);
    const ok = lua.lua_pcall(L, 1, 1, 0) === lua.LUA_OK;
    const text = ok ? bytesToText(lua.lua_tolstring(L, -1) ?? new Uint8Array()) : undefined;
    lua.lua_pop(L, 1);
    if (text !== undefined) return text;
  }
  return rawErrorText(co, -1);
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
