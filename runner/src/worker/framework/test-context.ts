/**
 * The test context `t`: assertions record the first failure on the test
 * (so a failure caught by pcall still fails it) and raise an error located at
 * the author's line; t:skip() is an abort (pcall cannot swallow it).
 */
import { lauxlib, lua, type LuaState } from '../lua/api.js';
import { authorLocation, traceback } from '../lua/debug-info.js';
import { bytesToText, raise, toText } from '../lua/values.js';
import { throwAbort } from '../runtime/host-call.js';
import { runtimeOf } from '../runtime/runtime.js';
import type { TestRun } from './file-run.js';
import { compareDeep, formatValue } from './format.js';

function ensureRunning(L: LuaState, t: TestRun): void {
  if (t.finished) raise(L, `this t belongs to test '${t.name}', which has ended: use the t passed to the running test`);
}

/** Records the failure (unless inside t:assert_raises) and raises it at the author's line. */
function fail(L: LuaState, t: TestRun, message: string): never {
  if (t.failure === undefined && t.expectingErrors === 0) {
    t.failure = { message, location: authorLocation(L, 1), traceback: traceback(L, L, 1) };
  }
  return raise(L, message);
}

function withMsg(L: LuaState, message: string, msgIdx: number): string {
  return lua.lua_isnoneornil(L, msgIdx) ? message : `${message}: ${toText(L, msgIdx)}`;
}

/** t:assert(cond, msg): msg may be any value (Lua's assert takes one), shown with tostring only on failure. */
export function assert(L: LuaState, t: TestRun): number {
  ensureRunning(L, t);
  if (lua.lua_toboolean(L, 2)) return 0;
  return fail(L, t, lua.lua_isnoneornil(L, 3) ? 'assertion failed' : bytesToText(lauxlib.luaL_tolstring(L, 3)));
}

export function assertEq(L: LuaState, t: TestRun): number {
  ensureRunning(L, t);
  const diff = compareDeep(L, 2, 3);
  if (diff === null) return 0;
  let text: string;
  if (diff.path === '') text = `assert_eq failed: ${diff.left} ~= ${diff.right}`;
  else {
    const quote = !(lua.lua_type(L, 2) === lua.LUA_TSTRING && lua.lua_type(L, 3) === lua.LUA_TSTRING);
    text = `assert_eq failed: ${formatValue(L, 2, quote)} ~= ${formatValue(L, 3, quote)} (at ${diff.path}: ${diff.left} ~= ${diff.right})`;
  }
  return fail(L, t, withMsg(L, text, 4));
}

export function assertNeq(L: LuaState, t: TestRun): number {
  ensureRunning(L, t);
  if (compareDeep(L, 2, 3) !== null) return 0;
  return fail(L, t, withMsg(L, `assert_neq failed: both values are ${formatValue(L, 2)}`, 4));
}

export function assertContains(L: LuaState, t: TestRun): number {
  ensureRunning(L, t);
  if (lua.lua_type(L, 2) === lua.LUA_TSTRING) {
    const nt = lua.lua_type(L, 3);
    if (nt !== lua.LUA_TSTRING && nt !== lua.LUA_TNUMBER) {
      return fail(L, t, withMsg(L, `assert_contains failed: a string can only contain a string, got ${formatValue(L, 3, true)}`, 4));
    }
    const hay = Buffer.from(lua.lua_tolstring(L, 2)!);
    lua.lua_pushvalue(L, 3);
    const needle = Buffer.from(lua.lua_tolstring(L, -1)!);
    lua.lua_pop(L, 1);
    if (hay.includes(needle)) return 0;
    return fail(L, t, withMsg(L, `assert_contains failed: ${formatValue(L, 2, true)} does not contain ${formatValue(L, 3, true)}`, 4));
  }
  lua.lua_pushnil(L);
  while (lua.lua_next(L, 2)) {
    if (compareDeep(L, -1, 3) === null) {
      lua.lua_pop(L, 2);
      return 0;
    }
    lua.lua_pop(L, 1);
  }
  return fail(L, t, withMsg(L, `assert_contains failed: ${formatValue(L, 2, true)} has no element equal to ${formatValue(L, 3, true)}`, 4));
}

interface RaisesCtx {
  t: TestRun;
}

/** t:assert_raises(fn, msg): fn at 2, msg at 3; returns the error. */
export function assertRaises(L: LuaState, t: TestRun): number {
  ensureRunning(L, t);
  t.expectingErrors++;
  lua.lua_settop(L, 3);
  lua.lua_pushvalue(L, 2);
  const ctx: RaisesCtx = { t };
  const status = lua.lua_pcallk(L, 0, 0, 0, ctx, afterRaises);
  return afterRaises(L, status, ctx);
}

function afterRaises(L: LuaState, status: number, ctx: RaisesCtx): number {
  ctx.t.expectingErrors--;
  if (status === lua.LUA_OK || status === lua.LUA_YIELD) {
    return fail(L, ctx.t, withMsg(L, 'assert_raises failed: the function returned without raising an error', 3));
  }
  const rt = runtimeOf(L);
  if (rt.abort !== null) throwAbort(L, rt);
  return 1;
}

export function failMethod(L: LuaState, t: TestRun): number {
  ensureRunning(L, t);
  return fail(L, t, toText(L, 2));
}

export function skip(L: LuaState, t: TestRun): number {
  ensureRunning(L, t);
  const reason = lua.lua_isnoneornil(L, 2) ? 'skipped' : toText(L, 2);
  const rt = runtimeOf(L);
  rt.setAbort({ kind: 'skip', message: `test skipped: ${reason}`, location: authorLocation(L, 1) });
  t.skipReason = reason;
  return throwAbort(L, rt);
}

export function log(L: LuaState, t: TestRun): number {
  const text = bytesToText(lauxlib.luaL_tolstring(L, 2));
  t.scope.write(text + '\n');
  return 0;
}

/** `t.meta`: the test's meta table, or an empty table (the same one each time) when it had none. */
export function pushMeta(L: LuaState, t: TestRun): number {
  if (t.test.metaRef === lauxlib.LUA_REFNIL) {
    lua.lua_newtable(L);
    lua.lua_pushvalue(L, -1);
    t.test.metaRef = lauxlib.luaL_ref(L, lua.LUA_REGISTRYINDEX);
    return 1;
  }
  lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, t.test.metaRef);
  return 1;
}
