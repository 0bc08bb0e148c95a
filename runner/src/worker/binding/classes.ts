/**
 * The schema's classes as Lua objects, per Lua state: a userdata per JS object
 * (the same one each time, so `==` works) with a metatable per class whose
 * __index serves exposed methods and fields, raises "not available yet" for
 * planned ones and names the known ones for a typo; __newindex sets writable
 * fields after checking the value. Methods and global functions go through
 * one dispatcher: check the arguments against the schema, then call the
 * implementation (raw on the stack, or JS with converted values, possibly async).
 */
import { lua, stateSlot, type LuaState } from '../lua/api.js';
import { authorLocation, type SourceLocation } from '../lua/debug-info.js';
import { pushText, raise, toText, typeName } from '../lua/values.js';
import { pushValue, valueAt, type TValue } from '../runtime/fengari-internals.js';
import { callTracer } from '../runtime/call-trace.js';
import { assertCanWait, checkpoint, hostAwait } from '../runtime/host-call.js';
import { markLabelled } from '../runtime/non-yieldable.js';
import type { Runtime } from '../runtime/runtime.js';
import { TypeChecker, instanceClass, normalizeArgs } from './check.js';
import type { CompiledApi, CompiledClass, CompiledMethod } from './compile.js';
import { pushJs, toJs, type Converter } from './convert.js';
import type { CallContext, FieldImpl, FileServices, JsMethod } from './registry.js';

interface Instance {
  obj: object;
  cls: CompiledClass;
}

const byState = stateSlot<StateBindings>('provium.bindings');

export function bindingsOf(L: LuaState): StateBindings {
  const b = byState.get(L);
  if (!b) throw new Error('internal: Lua state without bindings');
  return b;
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

export class StateBindings implements Converter {
  readonly checker: TypeChecker;
  /**
   * The userdata of each object pushed so far, so that an object is always the
   * same Lua value. Weak: a result nobody holds any more (a RunResult and its
   * output) is collected; a registry reference per object kept them all.
   */
  private readonly instances = new WeakMap<object, TValue>();
  /** Objects of value globals are named by their global in messages (`provium:vm`). */
  private readonly labels = new WeakMap<object, string>();

  constructor(
    L: LuaState,
    readonly api: CompiledApi,
    readonly services: FileServices,
    private readonly rt: Runtime,
  ) {
    this.checker = new TypeChecker(api.schema);
    byState.set(L, this);
  }

  label(cls: CompiledClass, obj: object): string {
    return this.labels.get(obj) ?? cls.impl.receiver ?? cls.name;
  }

  callContext(L: LuaState, overload: number): CallContext {
    let where: SourceLocation | undefined | null = null;
    // Looked up on first use only (few calls want it, and it reads the Lua stack): so before the call's first await.
    return {
      signal: this.rt.signal,
      get where() {
        if (where === null) where = authorLocation(L, 1);
        return where;
      },
      services: this.services,
      overload,
    };
  }

  pushInstance(L: LuaState, cls: CompiledClass, obj: object): void {
    const known = this.instances.get(obj);
    if (known !== undefined) {
      pushValue(L, known);
      return;
    }
    const ud = lua.lua_newuserdata(L, 0) as Instance;
    ud.obj = obj;
    ud.cls = cls;
    this.pushMetatable(L, cls);
    lua.lua_setmetatable(L, -2);
    this.instances.set(obj, valueAt(L, -1));
  }

  /** Pushes the class's metatable, building it on first use. */
  pushMetatable(L: LuaState, cls: CompiledClass): void {
    if (lua.lua_getfield(L, lua.LUA_REGISTRYINDEX, cls.metaKey) === lua.LUA_TTABLE) return;
    lua.lua_pop(L, 1);
    lua.lua_createtable(L, 0, 7);
    // The methods' closures, made on first use by indexInstance: a file uses a few of each class's.
    lua.lua_createtable(L, 0, 0);
    lua.lua_pushvalue(L, -1);
    lua.lua_setfield(L, -3, '__methods');
    lua.lua_pushlightuserdata(L, cls);
    lua.lua_insert(L, -2);
    lua.lua_pushcclosure(L, indexInstance, 2);
    lua.lua_setfield(L, -2, '__index');
    lua.lua_pushlightuserdata(L, cls);
    lua.lua_pushcclosure(L, newindexInstance, 1);
    lua.lua_setfield(L, -2, '__newindex');
    lua.lua_pushcfunction(L, tostringInstance);
    lua.lua_setfield(L, -2, '__tostring');
    lua.lua_pushstring(L, cls.name);
    lua.lua_setfield(L, -2, '__metatable');
    lua.lua_pushstring(L, cls.name);
    lua.lua_setfield(L, -2, '__name');
    lua.lua_pushvalue(L, -1);
    lua.lua_setfield(L, lua.LUA_REGISTRYINDEX, cls.metaKey);
  }

  /** Sets the exposed globals: functions, and value objects (made now, once per file). */
  installGlobals(L: LuaState): void {
    for (const g of this.api.globals) {
      if (g.kind === 'function') {
        lua.lua_pushlightuserdata(L, g.fn);
        lua.lua_pushcclosure(L, dispatchGlobal, 1);
      } else {
        const obj = g.value!(this.services);
        this.labels.set(obj, g.name);
        this.pushInstance(L, g.valueClass!, obj);
      }
      lua.lua_setglobal(L, g.name);
    }
  }

  /** Checks the arguments from `base` against the method's signatures; normalizes them; returns the overload. */
  checkArgs(L: LuaState, m: CompiledMethod, base: number, label: string): number {
    const nargs = lua.lua_gettop(L) - base + 1;
    let best: { error: string; param: { name: string }; argNo: number; distance: number } | undefined;
    // With overloads, a non-nil argument beyond a signature's parameters rules it out
    // (`provium:vm("a", 42)` is a bad create, not a lookup with an extra argument).
    const lastGiven = (() => {
      for (let n = nargs; n > 0; n--) if (!lua.lua_isnil(L, base + n - 1)) return n;
      return 0;
    })();
    const candidates = m.signatures.length > 1 && m.signatures.some((sg) => sg.params.length >= lastGiven)
      ? m.signatures.map((sg, i) => ({ sig: sg, i })).filter(({ sig: sg }) => sg.params.length >= lastGiven)
      : m.signatures.map((sg, i) => ({ sig: sg, i }));
    for (const { sig, i } of candidates) {
      const r = this.checker.align(L, base, sig);
      if ('positions' in r) {
        normalizeArgs(L, base, r.positions);
        return i;
      }
      const distance = Math.abs(sig.params.length - nargs);
      if (best === undefined || distance < best.distance) best = { ...r, distance };
    }
    return raise(L, `${label}: bad argument #${best!.argNo} '${best!.param.name}': ${best!.error}`);
  }

  /** Runs the implementation of `m` with checked arguments at base.. . */
  invoke(L: LuaState, m: CompiledMethod, self: object | undefined, base: number, label: string, overload: number): number {
    const impl = m.impl as { raw?: (L: LuaState, self?: object) => number } | JsMethod<unknown>;
    if (typeof impl !== 'function') return m.cls ? impl.raw!(L, self) : impl.raw!(L);
    const sig = m.signatures[overload];
    const args = sig.params.map((p, i) => toJs(this, L, base + i, p.type));
    const call = this.callContext(L, overload);
    if (m.isAsync) {
      checkpoint(L, this.rt);
      assertCanWait(L, this.rt, label);
    }
    if (m.isAsync) callTracer?.begin(label);
    let result: unknown;
    let failure: unknown;
    try {
      result = m.cls ? impl(self, args, call) : (impl as unknown as (a: unknown[], c: CallContext) => unknown)(args, call);
    } catch (e) {
      failure = e;
    }
    if (failure !== undefined) return raise(L, `${label}: ${errorText(failure)}`);
    if (isThenable(result)) {
      const promise = Promise.resolve(result);
      // hostAwait may still refuse to wait (abort, deadline, non-yieldable): never leave a rejection unhandled.
      promise.catch(() => {});
      return hostAwait(L, label, () => promise, (L2, value) => pushJs(this, L2, value, sig.returns), label);
    }
    return pushJs(this, L, result, sig.returns);
  }

  /** Calls a field getter or setter, turning a JS error into a Lua error naming the field. */
  accessField(L: LuaState, label: string, fn: () => unknown): unknown {
    let failure: unknown;
    let value: unknown;
    try {
      value = fn();
    } catch (e) {
      failure = e;
    }
    if (failure !== undefined) raise(L, `${label}: ${errorText(failure)}`);
    return value;
  }
}

function dispatchMethod(L: LuaState): number {
  const m = lua.lua_touserdata(L, lua.lua_upvalueindex(1)) as CompiledMethod;
  const cls = m.cls!;
  const b = bindingsOf(L);
  if (instanceClass(L, 1) !== cls) {
    const recv = cls.impl.receiver ?? cls.name;
    return raise(L, `${recv}:${m.name}: call it as a method, with ':' (${recv}:${m.name}(...)), not '.'; got ${typeName(L, 1)} as self`);
  }
  const self = (lua.lua_touserdata(L, 1) as Instance).obj;
  const label = cls.impl.callLabel?.(self, m.name) ?? `${b.label(cls, self)}:${m.name}`;
  const overload = b.checkArgs(L, m, 2, label);
  return b.invoke(L, m, self, 2, label, overload);
}

function dispatchGlobal(L: LuaState): number {
  const m = lua.lua_touserdata(L, lua.lua_upvalueindex(1)) as CompiledMethod;
  const b = bindingsOf(L);
  const overload = b.checkArgs(L, m, 1, m.name);
  return b.invoke(L, m, undefined, 1, m.name, overload);
}

function knownMembers(cls: CompiledClass): string {
  const methods = [...cls.methods.keys()];
  const fields = [...cls.fields.values()].filter((f) => f.available).map((f) => f.name);
  const parts = [];
  if (methods.length) parts.push(`methods: ${methods.join(', ')}`);
  if (fields.length) parts.push(`fields: ${fields.join(', ')}`);
  return parts.length ? parts.join('; ') : 'none available yet';
}

function indexInstance(L: LuaState): number {
  const cls = lua.lua_touserdata(L, lua.lua_upvalueindex(1)) as CompiledClass;
  const b = bindingsOf(L);
  const self = (lua.lua_touserdata(L, 1) as Instance).obj;
  if (lua.lua_type(L, 2) !== lua.LUA_TSTRING) return raise(L, `${b.label(cls, self)}: cannot index with a ${typeName(L, 2)} key`);
  lua.lua_pushvalue(L, 2);
  if (lua.lua_rawget(L, lua.lua_upvalueindex(2)) !== lua.LUA_TNIL) return 1;
  lua.lua_pop(L, 1);
  const name = toText(L, 2);
  const method = cls.methods.get(name);
  if (method !== undefined) {
    // First use in this state: the closure is kept, so `obj.m == obj.m` as for any Lua method.
    lua.lua_pushlightuserdata(L, method);
    lua.lua_pushcclosure(L, dispatchMethod, 1);
    lua.lua_pushvalue(L, 2);
    lua.lua_pushvalue(L, -2);
    lua.lua_rawset(L, lua.lua_upvalueindex(2));
    return 1;
  }
  const label = b.label(cls, self);
  const field = cls.fields.get(name);
  if (field !== undefined) {
    if (!field.available) return raise(L, `${label}.${name} is not available yet in this version of Provium`);
    const rawGet = (field.impl as FieldImpl<object> | undefined)?.rawGet;
    if (rawGet !== undefined) return rawGet(L, self);
    const get = (field.impl as FieldImpl<object> | undefined)?.get;
    if (get === undefined) return raise(L, `${label}.${name} cannot be read`);
    const value = b.accessField(L, `${label}.${name}`, () => get(self, b.callContext(L, 0)));
    return pushJs(b, L, value, field.type);
  }
  const unexposed = cls.unexposed.get(name);
  if (unexposed === 'planned') return raise(L, `${label}:${name} is not available yet in this version of Provium`);
  if (unexposed === 'unimplemented') return raise(L, `${label}:${name} is in the API but this runtime has no implementation of it`);
  if (cls.memberType !== undefined && cls.impl.member !== undefined) {
    const member = cls.impl.member;
    const found = b.accessField(L, `${label}.${name}`, () => member(self, name, b.callContext(L, 0)));
    if (found !== undefined) return pushJs(b, L, found, cls.memberType);
    // A class of named members answers nil for a name it lacks (`if lab.x then`), as a table would.
    lua.lua_pushnil(L);
    return 1;
  }
  return raise(L, `${label} has no field or method '${name}' (${knownMembers(cls)})`);
}

function newindexInstance(L: LuaState): number {
  const cls = lua.lua_touserdata(L, lua.lua_upvalueindex(1)) as CompiledClass;
  const b = bindingsOf(L);
  const self = (lua.lua_touserdata(L, 1) as Instance).obj;
  const label = b.label(cls, self);
  const name = lua.lua_type(L, 2) === lua.LUA_TSTRING ? toText(L, 2) : `[${typeName(L, 2)}]`;
  const field = cls.fields.get(name);
  const writable = [...cls.fields.values()].filter((f) => f.writable).map((f) => f.name);
  if (field === undefined || !field.writable) {
    const known = writable.length ? `the settable fields are: ${writable.join(', ')}` : `${label} has no settable fields`;
    return raise(L, `${label}.${name} cannot be set: ${known}`);
  }
  if (!field.available) {
    // Setting a planned switch to its default (false/nil) changes nothing, so it is accepted.
    if (!lua.lua_toboolean(L, 3)) return 0;
    return raise(L, `${label}.${name} is not available yet in this version of Provium`);
  }
  const err = b.checker.check(L, 3, field.type);
  if (err !== null) return raise(L, `${label}.${name}: ${err}`);
  const set = (field.impl as FieldImpl<object> | undefined)?.set;
  if (set === undefined) return raise(L, `${label}.${name} cannot be set`);
  const value = toJs(b, L, 3, field.type);
  b.accessField(L, `${label}.${name}`, () => set(self, value, b.callContext(L, 0)));
  return 0;
}

function tostringInstance(L: LuaState): number {
  const inst = lua.lua_touserdata(L, 1) as Instance;
  const b = bindingsOf(L);
  const custom = inst.cls.impl.tostring;
  pushText(L, custom ? custom(inst.obj) : `${inst.cls.name}: ${b.label(inst.cls, inst.obj)}`);
  return 1;
}

function methodLabel(L: LuaState): string {
  lua.lua_getupvalue(L, -1, 1);
  const m = lua.lua_touserdata(L, -1) as CompiledMethod;
  lua.lua_pop(L, 1);
  return m.cls ? `${m.cls.impl.receiver ?? m.cls.name}:${m.name}` : m.name;
}

markLabelled(dispatchMethod, methodLabel);
markLabelled(dispatchGlobal, methodLabel);
