/** FailureInfo from a Lua error: message without its "file:line: " prefix, the location, a traceback. */
import type { FailureInfo } from '@provium/types';
import { lauxlib, lua, type LuaState } from '../lua/api.js';
import { authorLocation, traceback, type SourceLocation } from '../lua/debug-info.js';
import { bytesToText, pushText, rawErrorText, typeName } from '../lua/values.js';
import { formatValue } from './format.js';

const PREFIX = /^([^\n]*?\.lua):(\d+): /;
/** The longest rendering of an error table (its __tostring, the author's own text, is not cut). */
const MAX_TABLE_TEXT = 500;

/**
 * Text of the error value on top of the dead thread `co`; moves it to `L` (a dead
 * thread's stack cannot grow) and, in protected mode, runs its __tostring or
 * shows a table's fields: `{code = 3, msg = "x"}`, not `table: 0x3d`.
 */
export function errorValueText(L: LuaState, co: LuaState): string {
  lua.lua_xmove(co, L, 1);
  const t = lua.lua_type(L, -1);
  let text: string | undefined;
  if (t === lua.LUA_TTABLE || t === lua.LUA_TUSERDATA) {
    lua.lua_pushcfunction(L, describeTop);
    lua.lua_pushvalue(L, -2);
    if (lua.lua_pcall(L, 1, 1, 0) === lua.LUA_OK) text = bytesToText(lua.lua_tolstring(L, -1) ?? new Uint8Array());
    else text = `(error object is a ${typeName(L, -2)} value whose __tostring failed: ${splitLocation(rawErrorText(L, -1), undefined).message})`;
    lua.lua_pop(L, 1);
  }
  text ??= rawErrorText(L, -1);
  lua.lua_pop(L, 1);
  return text;
}

function describeTop(L: LuaState): number {
  if (lua.lua_type(L, 1) !== lua.LUA_TTABLE || lauxlib.luaL_getmetafield(L, 1, '__tostring') !== lua.LUA_TNIL) {
    lauxlib.luaL_tolstring(L, 1);
    return 1;
  }
  const text = formatValue(L, 1);
  pushText(L, text.length > MAX_TABLE_TEXT ? `${text.slice(0, MAX_TABLE_TEXT)}... (${text.length} characters)` : text);
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
  // Only a string carries Lua's "file:line: " prefix; a table's fields may merely look like one.
  const prefixed = lua.lua_type(co, -1) === lua.LUA_TSTRING;
  const text = errorValueText(L, co);
  const { message, location } = prefixed ? splitLocation(text, authorLocation(co, 0)) : { message: text, location: authorLocation(co, 0) };
  return { message, location, traceback: traceback(L, co, 0) };
}
