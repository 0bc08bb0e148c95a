/** The global functions `test`, `todo` and `wait_until` (arguments already checked against the schema). */
import { parseDurationText, type TestMeta } from '@provium/types';
import { setTimeout as sleep } from 'node:timers/promises';
import { lauxlib, lua, type LuaState } from '../lua/api.js';
import { authorLocation } from '../lua/debug-info.js';
import { raise, toText } from '../lua/values.js';
import { genericToJs } from '../binding/convert.js';
import { hostAwait } from '../runtime/host-call.js';
import { formatMs, runtimeOf } from '../runtime/runtime.js';
import { timerMs } from '../runtime/timer.js';
import { fileRunOf, type FileRun } from './file-run.js';

function requireTopLevel(L: LuaState, run: FileRun, what: string): void {
  if (run.phase !== 'top') {
    raise(L, `${what} must be called in the file's top-level code, not inside test '${run.current?.name ?? '?'}'`);
  }
}

/** Seconds of a checked duration value at `idx`. */
function durationAt(L: LuaState, idx: number): number {
  return lua.lua_type(L, idx) === lua.LUA_TNUMBER ? lua.lua_tonumber(L, idx) : parseDurationText(toText(L, idx))!;
}

/** The meta table as JSON-safe data for events (functions and other values become descriptive strings). */
function metaForEvents(L: LuaState, idx: number): TestMeta {
  const data = genericToJs(L, idx, new Set());
  return data !== null && typeof data === 'object' && !Array.isArray(data) ? (data as TestMeta) : {};
}

/** test(name, [meta], fn): params at 1 name, 2 meta (or nil), 3 fn. */
export function testGlobal(L: LuaState): number {
  const run = fileRunOf(L);
  requireTopLevel(L, run, 'test()');
  const name = toText(L, 1);
  const where = authorLocation(L, 1);
  const first = run.byName.get(name);
  if (first !== undefined) {
    const at = (w: typeof where) => (w ? `${w.file}:${w.line}` : '?');
    raise(L, `duplicate test name '${name}': first defined at ${at(first.where)}, again at ${at(where)}; test names must be unique in a file`);
  }
  // Without meta (most tests) there is nothing to read; t.meta makes its empty table when asked.
  let meta: TestMeta = {};
  let slow = false;
  let skip: string | undefined;
  let timeoutSeconds: number | undefined;
  const tags: string[] = [];
  if (!lua.lua_isnil(L, 2)) {
    meta = metaForEvents(L, 2);
    const get = (key: string) => {
      lua.lua_getfield(L, 2, key);
      return lua.lua_gettop(L);
    };
    slow = lua.lua_toboolean(L, get('slow'));
    const tagsIdx = get('tags');
    if (lua.lua_istable(L, tagsIdx)) {
      for (let i = 1, n = lua.lua_rawlen(L, tagsIdx); i <= n; i++) {
        lua.lua_rawgeti(L, tagsIdx, i);
        tags.push(toText(L, -1));
        lua.lua_pop(L, 1);
      }
    }
    const skipIdx = get('skip');
    skip = lua.lua_isnil(L, skipIdx) ? undefined : toText(L, skipIdx);
    const timeoutIdx = get('timeout');
    timeoutSeconds = lua.lua_isnil(L, timeoutIdx) ? undefined : durationAt(L, timeoutIdx);
  }
  lua.lua_settop(L, 3);
  const fnRef = lauxlib.luaL_ref(L, lua.LUA_REGISTRYINDEX);
  const metaRef = lauxlib.luaL_ref(L, lua.LUA_REGISTRYINDEX); // LUA_REFNIL without meta
  const test = { name, where, fnRef, metaRef, meta, slow, tags, skip, timeoutSeconds };
  run.tests.push(test);
  run.byName.set(name, test);
  return 0;
}

/** todo([reason]): every test of the file reports skipped with the reason. */
export function todoGlobal(L: LuaState): number {
  const run = fileRunOf(L);
  requireTopLevel(L, run, 'todo()');
  run.todo = lua.lua_isnil(L, 1) ? 'todo' : toText(L, 1);
  return 0;
}

interface WaitState {
  deadline: number;
  intervalMs: number;
  timeoutMs: number;
  desc: string | undefined;
}

/** wait_until(pred, [opts]): calls pred until truthy; sleeps yield to the driver between calls. */
export function waitUntilGlobal(L: LuaState): number {
  const rt = runtimeOf(L);
  let timeoutS = 10;
  let intervalS = 0.1;
  let desc: string | undefined;
  if (lua.lua_istable(L, 2)) {
    if (lua.lua_getfield(L, 2, 'timeout') !== lua.LUA_TNIL) timeoutS = durationAt(L, -1);
    if (lua.lua_getfield(L, 2, 'interval') !== lua.LUA_TNIL) intervalS = durationAt(L, -1);
    if (lua.lua_getfield(L, 2, 'desc') !== lua.LUA_TNIL) desc = toText(L, -1);
    lua.lua_settop(L, 2);
  }
  const timeoutMs = timeoutS * 1000 * rt.task.timeoutScale;
  return callPredicate(L, { deadline: performance.now() + timeoutMs, intervalMs: intervalS * 1000, timeoutMs, desc });
}

function callPredicate(L: LuaState, st: WaitState): number {
  lua.lua_settop(L, 2);
  lua.lua_pushvalue(L, 1);
  lua.lua_callk(L, 0, 1, st, afterPredicate);
  return afterPredicate(L, lua.LUA_OK, st);
}

function afterPredicate(L: LuaState, _status: number, st: WaitState): number {
  if (lua.lua_toboolean(L, -1)) return 1;
  const now = performance.now();
  if (now >= st.deadline) {
    raise(L, `wait_until timed out after ${formatMs(st.timeoutMs)} waiting for ${st.desc ?? 'the predicate to return a truthy value'}`);
  }
  const ms = Math.max(0, Math.min(st.intervalMs, st.deadline - now));
  return hostAwait(
    L,
    'wait_until',
    (signal) => sleep(timerMs(ms), undefined, { signal }),
    (L2) => callPredicate(L2, st),
  );
}
