/**
 * Converting checked Lua arguments to JS (by the schema type) and JS results
 * back to Lua (by the return type). bytes ↔ Uint8Array, string ↔ string
 * (UTF-8), duration → seconds, size → bytes, records ↔ plain objects, lists ↔
 * arrays, class instances ↔ the objects registered for them.
 */
import { findRecord, parseDurationText, parseSizeText, type TypeExpr } from '@provium/types';
import { lua, type LuaState } from '../lua/api.js';
import { pushBytes, pushText, toBytes, toText, typeName } from '../lua/values.js';
import { instanceClass, type TypeChecker } from './check.js';
import type { CompiledApi, CompiledClass } from './compile.js';

export interface Converter {
  api: CompiledApi;
  checker: TypeChecker;
  /** Pushes the Lua object for `obj` as an instance of `cls` (the same userdata every time). */
  pushInstance(L: LuaState, cls: CompiledClass, obj: object): void;
}

/** The JS value of the (already checked) Lua value at `idx` for type `t`. */
export function toJs(cv: Converter, L: LuaState, idx: number, t: TypeExpr): unknown {
  idx = lua.lua_absindex(L, idx);
  const lt = lua.lua_type(L, idx);
  if (lt === lua.LUA_TNIL || lt === lua.LUA_TNONE) return undefined;
  switch (t.kind) {
    case 'prim':
      switch (t.name) {
        case 'string':
          return toText(L, idx);
        case 'bytes':
          return toBytes(L, idx);
        case 'number':
        case 'integer':
          return lua.lua_tonumber(L, idx);
        case 'boolean':
          return lua.lua_toboolean(L, idx);
        case 'duration':
          return lt === lua.LUA_TNUMBER ? lua.lua_tonumber(L, idx) : parseDurationText(toText(L, idx));
        case 'size':
          return lt === lua.LUA_TNUMBER ? Math.round(lua.lua_tonumber(L, idx)) : parseSizeText(toText(L, idx));
        default:
          return genericToJs(L, idx, new Set());
      }
    case 'class':
      return (lua.lua_touserdata(L, idx) as { obj: object }).obj;
    case 'record': {
      const rec = findRecord(cv.api.schema, t.name)!;
      const out: Record<string, unknown> = rec.open ? (genericToJs(L, idx, new Set()) as Record<string, unknown>) : {};
      for (const f of rec.fields) {
        lua.lua_getfield(L, idx, f.name);
        const v = toJs(cv, L, -1, cv.checker.fieldType(rec, f.name));
        lua.lua_pop(L, 1);
        if (v !== undefined) out[f.name] = v;
        else delete out[f.name];
      }
      return out;
    }
    case 'list': {
      const n = lua.lua_rawlen(L, idx);
      const out: unknown[] = [];
      for (let i = 1; i <= n; i++) {
        lua.lua_rawgeti(L, idx, i);
        out.push(toJs(cv, L, -1, t.of));
        lua.lua_pop(L, 1);
      }
      return out;
    }
    case 'map': {
      const out: Record<string, unknown> = {};
      lua.lua_pushnil(L);
      while (lua.lua_next(L, idx)) {
        lua.lua_pushvalue(L, -2);
        const key = toText(L, -1);
        lua.lua_pop(L, 1);
        out[key] = toJs(cv, L, -1, t.value);
        lua.lua_pop(L, 1);
      }
      return out;
    }
    case 'union': {
      for (const alt of t.of) {
        if (alt.kind === 'prim' && alt.name === 'nil') continue;
        if (cv.checker.check(L, idx, alt) === null) return toJs(cv, L, idx, alt);
      }
      return genericToJs(L, idx, new Set());
    }
  }
}

/** Any Lua value as plain JS: tables become arrays (sequences) or objects; instances their objects. */
export function genericToJs(L: LuaState, idx: number, seen: Set<object>): unknown {
  idx = lua.lua_absindex(L, idx);
  switch (lua.lua_type(L, idx)) {
    case lua.LUA_TNIL:
    case lua.LUA_TNONE:
      return undefined;
    case lua.LUA_TBOOLEAN:
      return lua.lua_toboolean(L, idx);
    case lua.LUA_TNUMBER:
      return lua.lua_tonumber(L, idx);
    case lua.LUA_TSTRING:
      return toText(L, idx);
    case lua.LUA_TUSERDATA: {
      if (instanceClass(L, idx)) return (lua.lua_touserdata(L, idx) as { obj: object }).obj;
      return `<${typeName(L, idx)}>`;
    }
    case lua.LUA_TTABLE: {
      const ptr = lua.lua_topointer(L, idx)!;
      if (seen.has(ptr)) return '<cycle>';
      seen.add(ptr);
      const n = lua.lua_rawlen(L, idx);
      let count = 0;
      const entries: [string, unknown][] = [];
      lua.lua_pushnil(L);
      while (lua.lua_next(L, idx)) {
        count++;
        lua.lua_pushvalue(L, -2);
        const key = toText(L, -1) || `<${typeName(L, -1)}>`;
        lua.lua_pop(L, 1);
        entries.push([key, genericToJs(L, -1, seen)]);
        lua.lua_pop(L, 1);
      }
      seen.delete(ptr);
      if (count === n && n > 0) return entries.sort((a, b) => Number(a[0]) - Number(b[0])).map(([, v]) => v);
      return Object.fromEntries(entries);
    }
    default:
      return `<${typeName(L, idx)}>`;
  }
}

/** Several results of one call (`vm:read_mem`'s `nil, errno`), pushed as they are. */
export class LuaValues {
  constructor(readonly values: unknown[]) {}
}

/** Lua integers are 32-bit here (fengari): larger integral numbers go as floats, exact to 2^53. */
const isLuaInteger = (v: number) => (v | 0) === v;

/** Pushes `value` as the Lua value of type `t`; returns the number of values pushed (0 for type nil). */
export function pushJs(cv: Converter, L: LuaState, value: unknown, t: TypeExpr): number {
  if (value instanceof LuaValues) {
    for (const v of value.values) pushGeneric(cv, L, v, new Set());
    return value.values.length;
  }
  if (t.kind === 'prim' && t.name === 'nil') return 0;
  pushValue(cv, L, value, t);
  return 1;
}

function pushValue(cv: Converter, L: LuaState, value: unknown, t: TypeExpr): void {
  if (value === undefined || value === null) {
    lua.lua_pushnil(L);
    return;
  }
  switch (t.kind) {
    case 'prim':
      if (t.name === 'integer' && typeof value === 'number' && isLuaInteger(value)) lua.lua_pushinteger(L, value);
      else pushGeneric(cv, L, value, new Set());
      return;
    case 'class': {
      const cls = cv.api.classes.get(t.name)!;
      cv.pushInstance(L, cls, value as object);
      return;
    }
    case 'record': {
      const rec = findRecord(cv.api.schema, t.name)!;
      const obj = value as Record<string, unknown>;
      lua.lua_createtable(L, 0, rec.fields.length);
      for (const f of rec.fields) {
        if (obj[f.name] === undefined) continue;
        pushValue(cv, L, obj[f.name], cv.checker.fieldType(rec, f.name));
        lua.lua_setfield(L, -2, f.name);
      }
      return;
    }
    case 'list': {
      const arr = value as unknown[];
      lua.lua_createtable(L, arr.length, 0);
      arr.forEach((v, i) => {
        pushValue(cv, L, v, t.of);
        lua.lua_rawseti(L, -2, i + 1);
      });
      return;
    }
    case 'map': {
      const obj = value as Record<string, unknown>;
      lua.lua_createtable(L, 0, Object.keys(obj).length);
      for (const [k, v] of Object.entries(obj)) {
        pushValue(cv, L, v, t.value);
        lua.lua_setfield(L, -2, k);
      }
      return;
    }
    case 'union': {
      for (const alt of t.of) {
        if (alt.kind === 'class') {
          const cls = cv.api.classes.get(alt.name)!;
          if (cls.impl.is?.(value)) {
            cv.pushInstance(L, cls, value as object);
            return;
          }
        }
      }
      const shaped = t.of.find((a) => (a.kind === 'record' && isPlainObject(value)) || (a.kind === 'list' && Array.isArray(value)));
      if (shaped) pushValue(cv, L, value, shaped);
      else pushGeneric(cv, L, value, new Set());
      return;
    }
  }
}

function isPlainObject(v: unknown): boolean {
  return typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype;
}

/** Any JS value: Uint8Array → string, arrays → sequences, plain objects → tables, registered objects → instances. */
function pushGeneric(cv: Converter, L: LuaState, value: unknown, seen: Set<object>): void {
  switch (typeof value) {
    case 'undefined':
      lua.lua_pushnil(L);
      return;
    case 'boolean':
      lua.lua_pushboolean(L, value);
      return;
    case 'number':
      if (isLuaInteger(value)) lua.lua_pushinteger(L, value);
      else lua.lua_pushnumber(L, value);
      return;
    case 'bigint':
      lua.lua_pushinteger(L, Number(value));
      return;
    case 'string':
      pushText(L, value);
      return;
  }
  if (value === null) {
    lua.lua_pushnil(L);
    return;
  }
  if (value instanceof Uint8Array) {
    pushBytes(L, value);
    return;
  }
  if (typeof value === 'object') {
    for (const cls of cv.api.classes.values()) {
      if (cls.impl.is?.(value)) {
        cv.pushInstance(L, cls, value);
        return;
      }
    }
    if (seen.has(value)) throw new Error('cannot convert a cyclic value to Lua');
    seen.add(value);
    if (Array.isArray(value)) {
      lua.lua_createtable(L, value.length, 0);
      value.forEach((v, i) => {
        pushGeneric(cv, L, v, seen);
        lua.lua_rawseti(L, -2, i + 1);
      });
    } else {
      const entries = Object.entries(value as Record<string, unknown>);
      lua.lua_createtable(L, 0, entries.length);
      for (const [k, v] of entries) {
        pushGeneric(cv, L, v, seen);
        lua.lua_setfield(L, -2, k);
      }
    }
    seen.delete(value);
    return;
  }
  lua.lua_pushnil(L);
}
