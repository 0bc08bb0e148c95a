/**
 * Moving values between Lua and JS. Lua strings are byte strings: they cross as
 * Uint8Array (binary-safe); `toText`/`pushText` are for strings meant as text
 * (decoded/encoded as UTF-8, invalid bytes shown as U+FFFD).
 */
import { lua, lauxlib, type LuaState } from './api.js';

const decoder = new TextDecoder('utf-8');

/** The bytes of the string (or number) at `idx`, copied. Throws on any other type. */
export function toBytes(L: LuaState, idx: number): Uint8Array {
  const view = lua.lua_tolstring(L, idx);
  if (view === null) throw new TypeError(`expected a string at stack index ${idx}, got ${typeName(L, idx)}`);
  return view.slice();
}

/** Pushes `data` as a Lua string, byte for byte (a JS string is encoded as UTF-8). */
export function pushBytes(L: LuaState, data: Uint8Array | string): void {
  if (typeof data === 'string') data = Buffer.from(data, 'utf8');
  lua.lua_pushlstring(L, data, data.length);
}

/** The string (or number) at `idx` decoded as UTF-8 text; '' for other types. */
export function toText(L: LuaState, idx: number): string {
  const view = lua.lua_tolstring(L, idx);
  return view === null ? '' : bytesToText(view);
}

/** Short ASCII (most names, commands, paths) is copied in JS: a call into the native decoder costs more. */
const SHORT = 32;

export function bytesToText(bytes: Uint8Array): string {
  if (bytes.length > SHORT) return decoder.decode(bytes);
  let s = '';
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i];
    if (c > 0x7f) return decoder.decode(bytes);
    s += String.fromCharCode(c);
  }
  return s;
}

export function pushText(L: LuaState, s: string): void {
  pushBytes(L, s);
}

/** Lua's type name of the value at `idx` ("no value" for an absent argument). */
export function typeName(L: LuaState, idx: number): string {
  const t = lua.lua_type(L, idx);
  return t === lua.LUA_TNONE ? 'no value' : decoder.decode(lua.lua_typename(L, t));
}

/** Raises a Lua error `message`, prefixed with "file:line: " of the function `level` levels up. */
export function raise(L: LuaState, message: string, level = 1): never {
  if (level > 0) lauxlib.luaL_where(L, level);
  else lua.lua_pushstring(L, '');
  pushText(L, message);
  lua.lua_concat(L, 2);
  return lua.lua_error(L);
}

/** A readable rendering of an error value without running any Lua code. */
export function rawErrorText(L: LuaState, idx: number): string {
  const t = lua.lua_type(L, idx);
  if (t === lua.LUA_TSTRING || t === lua.LUA_TNUMBER) return toText(L, idx);
  if (t === lua.LUA_TNIL) return 'nil';
  if (t === lua.LUA_TBOOLEAN) return String(lua.lua_toboolean(L, idx));
  return `(error object is a ${typeName(L, idx)} value)`;
}
