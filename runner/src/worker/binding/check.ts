/**
 * Argument checks from the schema's types, on the Lua stack (no conversion):
 * each check answers null (fine) or what is wrong, e.g.
 * "expected WaitUntilOpts, got string" or "field 'timeout': invalid duration "5x": ...".
 */
import { DURATION_HELP, SIZE_HELP, findRecord, formatType, parseDurationText, parseSizeText, parseType, type ApiSchema, type RecordSpec, type TypeExpr } from '@provium/types';
import { lua, type LuaState } from '../lua/api.js';
import { toText, typeName } from '../lua/values.js';
import type { CompiledClass, CompiledParam, CompiledSignature } from './compile.js';

/** The class of the instance at `idx`, if it is one of the runtime's objects. */
export function instanceClass(L: LuaState, idx: number): CompiledClass | undefined {
  if (lua.lua_type(L, idx) !== lua.LUA_TUSERDATA) return undefined;
  return (lua.lua_touserdata(L, idx) as { cls?: CompiledClass }).cls;
}

/** What the author passed, as named in messages: "string", "VM", "no value". */
export function describeActual(L: LuaState, idx: number): string {
  const cls = instanceClass(L, idx);
  if (cls) return cls.name;
  if (lua.lua_type(L, idx) === lua.LUA_TNUMBER && !lua.lua_isinteger(L, idx)) {
    // on a copy: lua_tolstring turns the number in its slot into a string, and a later overload would get that
    lua.lua_pushvalue(L, idx);
    const text = toText(L, -1);
    lua.lua_pop(L, 1);
    return `number ${text}`;
  }
  return typeName(L, idx);
}

const recordFields = new WeakMap<RecordSpec, Map<string, { type: TypeExpr; optional: boolean }>>();

function fieldsOf(schema: ApiSchema, rec: RecordSpec): Map<string, { type: TypeExpr; optional: boolean }> {
  let fields = recordFields.get(rec);
  if (!fields) {
    fields = new Map(rec.fields.map((f) => [f.name, { type: parseType(f.type, schema), optional: f.optional !== false }]));
    recordFields.set(rec, fields);
  }
  return fields;
}

export class TypeChecker {
  constructor(private readonly schema: ApiSchema) {}

  /** The parsed type of a record's field. */
  fieldType(rec: RecordSpec, field: string): TypeExpr {
    return fieldsOf(this.schema, rec).get(field)!.type;
  }

  /** null when the value at `idx` fits `t`, else what is wrong. */
  check(L: LuaState, idx: number, t: TypeExpr): string | null {
    idx = lua.lua_absindex(L, idx);
    const lt = lua.lua_type(L, idx);
    const mismatch = () => `expected ${formatType(t)}, got ${describeActual(L, idx)}`;
    switch (t.kind) {
      case 'prim':
        switch (t.name) {
          case 'any':
            return lt === lua.LUA_TNONE ? 'expected a value, got no value' : null;
          case 'nil':
            return lt === lua.LUA_TNIL || lt === lua.LUA_TNONE ? null : mismatch();
          case 'string':
          case 'bytes':
            return lt === lua.LUA_TSTRING ? null : mismatch();
          case 'number':
            return lt === lua.LUA_TNUMBER ? null : mismatch();
          case 'integer':
            return lt === lua.LUA_TNUMBER && lua.lua_tointegerx(L, idx) !== false ? null : mismatch();
          case 'boolean':
            return lt === lua.LUA_TBOOLEAN ? null : mismatch();
          case 'function':
            return lt === lua.LUA_TFUNCTION ? null : mismatch();
          case 'table':
            return lt === lua.LUA_TTABLE ? null : mismatch();
          case 'duration':
            return this.checkQuantity(L, idx, 'duration', parseDurationText, DURATION_HELP) ?? null;
          case 'size':
            return this.checkQuantity(L, idx, 'size', parseSizeText, SIZE_HELP) ?? null;
        }
        return mismatch();
      case 'class':
        return instanceClass(L, idx)?.name === t.name ? null : mismatch();
      case 'record':
        return lt === lua.LUA_TTABLE ? this.checkRecord(L, idx, findRecord(this.schema, t.name)!) : mismatch();
      case 'list':
        return lt === lua.LUA_TTABLE ? this.checkList(L, idx, t.of) : mismatch();
      case 'map':
        return lt === lua.LUA_TTABLE ? this.checkMap(L, idx, t.key, t.value) : mismatch();
      case 'union': {
        const errors: string[] = [];
        for (const alt of t.of) {
          const err = this.check(L, idx, alt);
          if (err === null) return null;
          errors.push(err);
        }
        // A table meant as the one table-shaped alternative: its detailed complaint helps most;
        // with a record and a list to choose from, a table with named keys was meant as the record.
        const tableAlts = t.of.map((a, i) => [a, i] as const).filter(([a]) => a.kind === 'record' || a.kind === 'list' || a.kind === 'map');
        if (lt === lua.LUA_TTABLE && tableAlts.length === 1) return errors[tableAlts[0][1]];
        if (lt === lua.LUA_TTABLE) {
          const meant = tableAlts.find(([a]) => (a.kind === 'record') === hasNamedKey(L, idx));
          if (meant) return errors[meant[1]];
        }
        return mismatch();
      }
    }
  }

  private checkQuantity(L: LuaState, idx: number, what: string, parse: (s: string) => number | undefined, help: string): string | null {
    const lt = lua.lua_type(L, idx);
    if (lt === lua.LUA_TNUMBER) {
      const n = lua.lua_tonumber(L, idx);
      return Number.isFinite(n) && n >= 0 ? null : `invalid ${what} ${toText(L, idx)}: expected ${help}`;
    }
    if (lt === lua.LUA_TSTRING) {
      const text = toText(L, idx);
      return parse(text) === undefined ? `invalid ${what} "${text}": expected ${help}` : null;
    }
    return `expected ${what} (${help}), got ${describeActual(L, idx)}`;
  }

  private checkRecord(L: LuaState, idx: number, rec: RecordSpec): string | null {
    const fields = fieldsOf(this.schema, rec);
    lua.lua_checkstack(L, 4);
    lua.lua_pushnil(L);
    while (lua.lua_next(L, idx)) {
      const kt = lua.lua_type(L, -2);
      if (kt !== lua.LUA_TSTRING) {
        if (!rec.open) {
          const key = kt === lua.LUA_TNUMBER ? `[${toText(L, -2)}]` : `of type ${typeName(L, -2)}`;
          lua.lua_pop(L, 2);
          return `unexpected key ${key}: ${rec.name} has named fields only (${[...fields.keys()].join(', ')})`;
        }
        lua.lua_pop(L, 1);
        continue;
      }
      const key = toText(L, -2);
      const field = fields.get(key);
      if (field === undefined) {
        if (!rec.open) {
          lua.lua_pop(L, 2);
          return `unknown field '${key}' (${rec.name} has: ${[...fields.keys()].join(', ') || 'no fields'})`;
        }
      } else {
        const err = this.check(L, -1, field.type);
        if (err !== null) {
          lua.lua_pop(L, 2);
          return `field '${key}': ${err}`;
        }
      }
      lua.lua_pop(L, 1);
    }
    for (const [name, field] of fields) {
      if (field.optional) continue;
      const present = lua.lua_getfield(L, idx, name) !== lua.LUA_TNIL;
      lua.lua_pop(L, 1);
      if (!present) return `missing field '${name}' (${formatType(field.type)})`;
    }
    return null;
  }

  private checkList(L: LuaState, idx: number, of: TypeExpr): string | null {
    const n = lua.lua_rawlen(L, idx);
    for (let i = 1; i <= n; i++) {
      lua.lua_rawgeti(L, idx, i);
      const err = this.check(L, -1, of);
      lua.lua_pop(L, 1);
      if (err !== null) return `element [${i}]: ${err}`;
    }
    if (hasNamedKey(L, idx)) return 'expected a list (entries 1..n only), got a table with named keys';
    return null;
  }

  private checkMap(L: LuaState, idx: number, key: TypeExpr, value: TypeExpr): string | null {
    lua.lua_checkstack(L, 4);
    lua.lua_pushnil(L);
    while (lua.lua_next(L, idx)) {
      // Check a copy of the key: lua_next needs the original untouched.
      lua.lua_pushvalue(L, -2);
      const keyErr = this.check(L, -1, key);
      const label = lua.lua_type(L, -1) === lua.LUA_TSTRING ? `'${toText(L, -1)}'` : `[${toText(L, -1) || typeName(L, -1)}]`;
      lua.lua_pop(L, 1);
      const err = keyErr !== null ? `key ${label}: ${keyErr}` : this.check(L, -1, value);
      if (err !== null) {
        lua.lua_pop(L, 2);
        return keyErr !== null ? err : `[${label}]: ${err}`;
      }
      lua.lua_pop(L, 1);
    }
    return null;
  }

  /**
   * Matches the arguments from `base` to `sig`. With fewer arguments than
   * parameters, optional parameters are skipped from the left (so
   * `test(name, fn)` leaves `meta` out). Returns where each parameter's
   * argument is (offset from base, or -1 when absent) or the first error.
   */
  align(L: LuaState, base: number, sig: CompiledSignature): { positions: number[] } | { error: string; param: CompiledParam; argNo: number } {
    const nargs = Math.max(0, lua.lua_gettop(L) - base + 1);
    let optionalToFill = Math.max(0, nargs - sig.required);
    const positions: number[] = [];
    let next = 0;
    for (const p of sig.params) {
      if (p.optional && optionalToFill === 0) {
        positions.push(-1);
        continue;
      }
      if (p.optional) optionalToFill--;
      positions.push(next++);
    }
    for (let i = 0; i < sig.params.length; i++) {
      const p = sig.params[i];
      const pos = positions[i];
      if (pos < 0) continue;
      const idx = base + pos;
      if (p.optional && lua.lua_isnoneornil(L, idx)) continue;
      const err = this.check(L, idx, p.type);
      if (err !== null) return { error: err, param: p, argNo: pos + 1 };
    }
    return { positions };
  }
}

/** Puts the parameters at base.. in signature order (nil where absent) and drops extra arguments. */
export function normalizeArgs(L: LuaState, base: number, positions: number[]): void {
  const identity = positions.every((p, i) => p === i);
  if (!identity) {
    lua.lua_checkstack(L, positions.length);
    for (const p of positions) {
      if (p < 0) lua.lua_pushnil(L);
      else lua.lua_pushvalue(L, base + p);
    }
    lua.lua_rotate(L, base, positions.length);
  }
  lua.lua_settop(L, base + positions.length - 1);
}

/** Whether a table has a key other than the integers 1..#t (a list has none). */
function hasNamedKey(L: LuaState, idx: number): boolean {
  idx = lua.lua_absindex(L, idx);
  const n = lua.lua_rawlen(L, idx);
  lua.lua_pushnil(L);
  while (lua.lua_next(L, idx)) {
    lua.lua_pop(L, 1);
    const k = lua.lua_isinteger(L, -1) ? (lua.lua_tointegerx(L, -1) as number) : NaN;
    if (!(k >= 1 && k <= n)) {
      lua.lua_pop(L, 1);
      return true;
    }
  }
  return false;
}
