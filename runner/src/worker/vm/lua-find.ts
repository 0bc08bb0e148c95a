/**
 * Lua patterns, matched exactly as `string.find` does, from JS: a private
 * fengari state of the worker runs the real string.find. Used where a host
 * method waits for output to match an author's pattern (console expect).
 */
import { lauxlib, lua, lualib } from '../lua/api.js';
import { pushBytes, pushText, rawErrorText, toBytes } from '../lua/values.js';

let L: ReturnType<typeof lauxlib.luaL_newstate> | undefined;

function state() {
  if (!L) {
    L = lauxlib.luaL_newstate();
    lauxlib.luaL_requiref(L, 'string', lualib.luaopen_string, true);
    lua.lua_pop(L, 1);
  }
  return L;
}

/** The first match of `pattern` in `subject` (bytes of the match), or undefined; a malformed pattern throws Lua's message. */
export function luaFind(subject: Uint8Array | string, pattern: string): { start: number; end: number; match: Uint8Array } | undefined {
  const S = state();
  const top = lua.lua_gettop(S);
  try {
    lua.lua_getglobal(S, 'string');
    lua.lua_getfield(S, -1, 'find');
    pushBytes(S, subject);
    pushText(S, pattern);
    if (lua.lua_pcall(S, 2, 2, 0) !== lua.LUA_OK) throw new Error(`bad Lua pattern ${JSON.stringify(pattern)}: ${rawErrorText(S, -1)}`);
    if (lua.lua_isnil(S, -2)) return undefined;
    const start = lua.lua_tointegerx(S, -2) as number;
    const end = lua.lua_tointegerx(S, -1) as number;
    lua.lua_pop(S, 2);
    lua.lua_getglobal(S, 'string');
    lua.lua_getfield(S, -1, 'sub');
    pushBytes(S, subject);
    lua.lua_pushinteger(S, start);
    lua.lua_pushinteger(S, end);
    lua.lua_call(S, 3, 1);
    return { start, end, match: toBytes(S, -1) };
  } finally {
    lua.lua_settop(S, top);
  }
}

/** Characters that make a needle a Lua pattern. */
const PATTERN_MAGIC = /[\^$()%.[\]*+\-?]/;

/**
 * Where an author's needle first occurs (stream and console `expect`,
 * `read_until`): the literal text first, as the original matches; only a
 * needle with a pattern character that is not found literally is then tried
 * as a Lua pattern, so pattern users keep working.
 */
export function findNeedle(subject: Uint8Array, needle: string): { start: number; end: number; match: Uint8Array } | undefined {
  const literal = Buffer.from(needle);
  const at = Buffer.from(subject.buffer, subject.byteOffset, subject.byteLength).indexOf(literal);
  if (at >= 0) return { start: at + 1, end: at + literal.length, match: new Uint8Array(literal) };
  return PATTERN_MAGIC.test(needle) ? luaFind(subject, needle) : undefined;
}
