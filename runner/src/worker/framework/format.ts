/**
 * Deep equality of Lua values (tables compared by content, numbers by value,
 * other values by `==`) and short renderings of values for failure messages.
 */
import { lauxlib, lua, type LuaState } from '../lua/api.js';
import { bytesToText, typeName } from '../lua/values.js';

const MAX_STRING = 200;
const MAX_ITEMS = 12;
const MAX_DEPTH = 2;
const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

export interface Mismatch {
  /** Keys from the compared values down to the first difference ("" at the top). */
  path: string;
  left: string;
  right: string;
}

/** Lua's %q-like quoting, for strings inside messages. */
export function quote(s: string): string {
  return '"' + s.replace(/[\\"\n\r\t]|[\x00-\x1f\x7f]/g, (c) => ({ '\\': '\\\\', '"': '\\"', '\n': '\\n', '\r': '\\r', '\t': '\\t' })[c] ?? `\\${c.charCodeAt(0)}`) + '"';
}

function truncate(s: string): string {
  return s.length > MAX_STRING ? `${s.slice(0, MAX_STRING)}... (${s.length} characters)` : s;
}

/** A plain string shown bare is ambiguous when empty, padded or multi-line. */
function needsQuotes(s: string): boolean {
  return s === '' || s.trim() !== s || /[\x00-\x1f]/.test(s);
}

/**
 * The value at `idx` for a message. Strings are bare at the top level unless
 * `quoteStrings` (or the string would be ambiguous), quoted inside tables.
 */
export function formatValue(L: LuaState, idx: number, quoteStrings = false, depth = 0, seen = new Set<object>()): string {
  idx = lua.lua_absindex(L, idx);
  switch (lua.lua_type(L, idx)) {
    case lua.LUA_TNONE:
    case lua.LUA_TNIL:
      return 'nil';
    case lua.LUA_TBOOLEAN:
      return String(lua.lua_toboolean(L, idx));
    case lua.LUA_TNUMBER: {
      lua.lua_pushvalue(L, idx);
      const s = bytesToText(lua.lua_tolstring(L, -1)!);
      lua.lua_pop(L, 1);
      return s;
    }
    case lua.LUA_TSTRING: {
      const s = truncate(bytesToText(lua.lua_tolstring(L, idx)!));
      return quoteStrings || depth > 0 || needsQuotes(s) ? quote(s) : s;
    }
    case lua.LUA_TTABLE:
      return formatTable(L, idx, depth, seen);
    default: {
      const s = bytesToText(lauxlib.luaL_tolstring(L, idx));
      lua.lua_pop(L, 1);
      return s;
    }
  }
}

function formatKey(L: LuaState, idx: number, depth: number, seen: Set<object>): string {
  if (lua.lua_type(L, idx) === lua.LUA_TSTRING) {
    const k = bytesToText(lua.lua_tolstring(L, idx)!);
    if (IDENT.test(k)) return k;
  }
  return `[${formatValue(L, idx, true, depth + 1, seen)}]`;
}

function formatTable(L: LuaState, idx: number, depth: number, seen: Set<object>): string {
  const ptr = lua.lua_topointer(L, idx)!;
  if (seen.has(ptr)) return '<cycle>';
  if (depth >= MAX_DEPTH) return '{...}';
  if (lua.lua_getmetatable(L, idx)) {
    const hasToString = lua.lua_getfield(L, -1, '__tostring') !== lua.LUA_TNIL;
    lua.lua_pop(L, 2);
    if (hasToString) {
      const s = bytesToText(lauxlib.luaL_tolstring(L, idx));
      lua.lua_pop(L, 1);
      return s;
    }
  }
  seen.add(ptr);
  const n = lua.lua_rawlen(L, idx);
  const items: string[] = [];
  let total = 0;
  for (let i = 1; i <= n; i++) {
    total++;
    if (items.length >= MAX_ITEMS) continue;
    lua.lua_rawgeti(L, idx, i);
    items.push(formatValue(L, -1, true, depth + 1, seen));
    lua.lua_pop(L, 1);
  }
  const named: [string, string][] = [];
  lua.lua_pushnil(L);
  while (lua.lua_next(L, idx)) {
    const isArrayKey = lua.lua_isinteger(L, -2) && (() => {
      lua.lua_pushvalue(L, -2);
      const k = lua.lua_tointegerx(L, -1);
      lua.lua_pop(L, 1);
      return k !== false && k >= 1 && k <= n;
    })();
    if (!isArrayKey) {
      total++;
      lua.lua_pushvalue(L, -2);
      const key = formatKey(L, -1, depth, seen);
      lua.lua_pop(L, 1);
      named.push([key, formatValue(L, -1, true, depth + 1, seen)]);
    }
    lua.lua_pop(L, 1);
  }
  seen.delete(ptr);
  named.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  for (const [k, v] of named) {
    if (items.length >= MAX_ITEMS) break;
    items.push(`${k} = ${v}`);
  }
  if (total > items.length) items.push(`... (${total} entries)`);
  return items.length ? `{${items.join(', ')}}` : '{}';
}

/** Deep equality of the values at `a` and `b`; null when equal, else where they first differ. */
export function compareDeep(L: LuaState, a: number, b: number): Mismatch | null {
  return compare(L, lua.lua_absindex(L, a), lua.lua_absindex(L, b), new Map(), '');
}

function mismatch(L: LuaState, a: number, b: number, path: string): Mismatch {
  const bothStrings = lua.lua_type(L, a) === lua.LUA_TSTRING && lua.lua_type(L, b) === lua.LUA_TSTRING;
  const quoteStrings = !bothStrings;
  let left = formatValue(L, a, quoteStrings);
  let right = formatValue(L, b, quoteStrings);
  if (left === right && lua.lua_type(L, a) !== lua.lua_type(L, b)) {
    left += ` (${typeName(L, a)})`;
    right += ` (${typeName(L, b)})`;
  }
  return { path, left, right };
}

function compare(L: LuaState, a: number, b: number, seen: Map<object, Set<object>>, path: string): Mismatch | null {
  if (lua.lua_rawequal(L, a, b)) return null;
  const ta = lua.lua_type(L, a);
  if (ta !== lua.lua_type(L, b)) return mismatch(L, a, b, path);
  if (ta !== lua.LUA_TTABLE) return lua.lua_compare(L, a, b, lua.LUA_OPEQ) ? null : mismatch(L, a, b, path);
  const pa = lua.lua_topointer(L, a)!;
  const pb = lua.lua_topointer(L, b)!;
  const pairs = seen.get(pa) ?? new Set();
  if (pairs.has(pb)) return null; // already being compared further up: assume equal (cycles)
  pairs.add(pb);
  seen.set(pa, pairs);
  lua.lua_checkstack(L, 6);
  let countA = 0;
  lua.lua_pushnil(L);
  while (lua.lua_next(L, a)) {
    countA++;
    const value = lua.lua_gettop(L);
    lua.lua_pushvalue(L, -2);
    lua.lua_rawget(L, b);
    const child = `${path}${keyPath(L, value - 1)}`;
    const diff = compare(L, value, value + 1, seen, child);
    lua.lua_pop(L, 2);
    if (diff !== null) {
      lua.lua_pop(L, 1);
      return diff;
    }
  }
  let countB = 0;
  lua.lua_pushnil(L);
  while (lua.lua_next(L, b)) {
    countB++;
    lua.lua_pushvalue(L, -2);
    const missing = lua.lua_rawget(L, a) === lua.LUA_TNIL;
    lua.lua_pop(L, 1);
    if (missing) {
      const child = `${path}${keyPath(L, -2)}`;
      lua.lua_pushnil(L);
      const diff = mismatch(L, lua.lua_gettop(L), lua.lua_gettop(L) - 1, child);
      lua.lua_pop(L, 3);
      return diff;
    }
    lua.lua_pop(L, 1);
  }
  return countA === countB ? null : mismatch(L, a, b, path);
}

function keyPath(L: LuaState, idx: number): string {
  if (lua.lua_type(L, idx) === lua.LUA_TSTRING) {
    const k = bytesToText(lua.lua_tolstring(L, idx)!);
    if (IDENT.test(k)) return `.${k}`;
    return `[${quote(k)}]`;
  }
  lua.lua_pushvalue(L, idx);
  const s = formatValue(L, -1, true, 1);
  lua.lua_pop(L, 1);
  return `[${s}]`;
}
