// The fast Lua state: standard libraries copied from a per-worker template must
// be what fengari's luaopen_* make, and finished states (and the objects they
// held) must not pile up.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { API, type FileTask } from '@provium/types';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { compileApi } from '../binding/compile.js';
import type { FileServices } from '../binding/registry.js';
import { defaultRegistry } from '../api/bindings.js';
import { lauxlib, lua, to_luastring, type LuaState } from '../lua/api.js';
import { runLuaFile } from '../run-file.js';
import { createLuaState, LIBS } from './create-state.js';

/** A WeakRef to every Lua state createLuaState makes, runLuaFile's included. */
const { states } = vi.hoisted(() => ({ states: [] as WeakRef<object>[] }));
vi.mock('./create-state.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('./create-state.js')>();
  return {
    ...real,
    createLuaState: (...args: Parameters<typeof real.createLuaState>) => {
      const made = real.createLuaState(...args);
      states.push(new WeakRef(made.L));
      return made;
    },
  };
});

const dir = mkdtempSync(path.join(tmpdir(), 'provium-state-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const task = (file = path.join(dir, 'x.test.lua')): FileTask => ({
  file,
  displayPath: path.basename(file),
  roots: [dir],
  selection: { tags: [], noTags: [], includeSlow: false },
  fileTimeoutMs: 60_000,
  timeoutScale: 1,
  workerIndex: 0,
  keepOnFailure: false,
});

const services = (t: FileTask) => ({ task: t, timeoutScale: 1, log() {}, onScopeEnd() {}, onFileEnd() {}, setFileHooks() {}, onTestFailure() {}, vmEvent() {}, setFileTimeout() {} }) as unknown as FileServices;

/** name=type of each entry of the table on top, in `next` order; functions as the JS function itself. */
function entries(L: LuaState): [string, unknown][] {
  const out: [string, unknown][] = [];
  lua.lua_pushnil(L);
  while (lua.lua_next(L, -2)) {
    const k = lua.lua_tojsstring(L, -2);
    const t = lua.lua_type(L, -1);
    const fn = t === lua.LUA_TFUNCTION ? lua.lua_tocfunction(L, -1) : null;
    // A closure (require, the searchers) is made per state: compare what it runs.
    out.push([k, fn !== null ? (typeof fn === 'function' ? fn : fn.f) : t === lua.LUA_TTABLE ? 'table' : lua.lua_tojsstring(L, -1)]);
    lua.lua_pop(L, 1);
  }
  return out;
}

/** Replaced by the runtime on purpose (print to the log, pcall that re-raises aborts, yieldable coroutines, ...). */
const REPLACED = new Set(['_G.print', '_G.pcall', '_G.xpcall', 'coroutine.resume', 'coroutine.wrap', 'coroutine.yield', 'coroutine.isyieldable', 'coroutine.running', 'debug.sethook', 'debug.gethook', 'debug.debug', 'os.exit', 'os.execute', 'os.tmpname']);

describe('createLuaState', () => {
  const api = compileApi(API, defaultRegistry);

  it('opens the standard libraries as fengari does, with the same entries in the same order', () => {
    const ref = lauxlib.luaL_newstate();
    for (const [name, open] of LIBS) {
      lauxlib.luaL_requiref(ref, name, open, true);
      lua.lua_pop(ref, 1);
    }
    for (let i = 0; i < 3; i++) {
      const { L } = createLuaState(task(), api, () => services(task()));
      for (const [name] of LIBS) {
        if (name === 'package') continue; // opened for real (closures over the state's tables), then pointed at the roots
        lua.lua_getglobal(L, name);
        lua.lua_getglobal(ref, name);
        const ours = entries(L);
        const theirs = entries(ref);
        lua.lua_pop(L, 1);
        lua.lua_pop(ref, 1);
        const keys = (e: [string, unknown][]) => e.map(([k]) => k);
        if (name === '_G') expect(keys(ours).slice(0, theirs.length)).toEqual(keys(theirs));
        else expect(keys(ours)).toEqual(keys(theirs));
        for (const [k, v] of theirs) {
          if (REPLACED.has(`${name}.${k}`)) expect(ours.find(([ok]) => ok === k)![1]).not.toBe(v);
          else expect(ours.find(([ok]) => ok === k)![1]).toBe(v);
        }
        lua.lua_getfield(L, lua.LUA_REGISTRYINDEX, '_LOADED');
        lua.lua_getfield(L, -1, name);
        lua.lua_getglobal(L, name);
        expect(lua.lua_rawequal(L, -1, -2)).toBeTruthy();
        lua.lua_pop(L, 3);
      }
      expect(lauxlib.luaL_dostring(L, to_luastring('assert(("ab"):rep(2) == "abab"); assert(getmetatable("").__index == string); assert(_G._G == _G)'))).toBe(lua.LUA_OK);
    }
  });

  it('keeps states apart: a change to one file\'s library tables is not seen by the next', () => {
    const a = createLuaState(task(), api, () => services(task())).L;
    const run = (L: LuaState, code: string) => {
      const status = lauxlib.luaL_dostring(L, to_luastring(code));
      return status === lua.LUA_OK ? 'ok' : lua.lua_tojsstring(L, -1);
    };
    expect(run(a, 'string.extra = 1; math.pi = 3; _G.print = nil')).toBe('ok');
    const b = createLuaState(task(), api, () => services(task())).L;
    expect(run(b, 'assert(string.extra == nil); assert(math.pi > 3.14); assert(print ~= nil)')).toBe('ok');
  });

  it('compares and keys strings by their bytes', async () => {
    const file = path.join(dir, 'bytes.test.lua');
    // fengari's own hash ran the bytes together in hex: "\1#" and "\18" .. "3" were one key, and "\n" sorted after "\16".
    writeFileSync(file, 'test("bytes", function(t)\n  local s = {}\n  s["\\1#"] = 1\n  s["\\0183"] = 2\n  t:assert_eq(s["\\1#"], 1)\n  t:assert("\\n" < "\\16")\n  t:assert("a" < "ab")\n  t:assert("\\255" > "\\127")\nend)\n');
    const outcome = await runLuaFile(task(file), () => {});
    expect(outcome).toMatchObject({ status: 'passed', passed: 1 });
  });

  it('lets every finished file\'s Lua state go: the worker keeps none of them', async () => {
    // Counted, not weighed: each state the file runs on is watched by a WeakRef, and after a full GC
    // every one of them must be gone. (Whether they already go at a young-generation GC cannot be
    // counted this way: V8's scavenges keep the targets of weak references, so a watched state is
    // promoted by the very reference that watches it.)
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const file = path.join(dir, 'gc.test.lua');
    writeFileSync(file, 'test("one", function(t) t:assert_eq(1, 1) end)\ntest("two", function(t) t:assert(true) end)\n');
    states.splice(0);
    for (let i = 0; i < 30; i++) expect(await runLuaFile(task(file), () => {})).toMatchObject({ status: 'passed', passed: 2 });
    expect(states).toHaveLength(30);
    await new Promise((resolve) => setTimeout(resolve, 0)); // a WeakRef holds its target until the job ends
    gc();
    expect(states.filter((s) => s.deref() !== undefined)).toHaveLength(0);
  });
});

// One Lua value per JS object, and nothing kept alive for it once Lua and JS both
// let go (a loop of vm:run results used to hold every result and its output).
describe('class instances', () => {
  const api = compileApi(API, defaultRegistry);
  const cls = api.classes.get('RunResult')!;

  it('pushes an object as the same Lua value every time', () => {
    const { L, bindings } = createLuaState(task(), api, () => services(task()));
    const obj = {};
    bindings.pushInstance(L, cls, obj);
    bindings.pushInstance(L, cls, {});
    bindings.pushInstance(L, cls, obj);
    expect(lua.lua_rawequal(L, -1, -3)).toBe(1);
    expect(lua.lua_rawequal(L, -1, -2)).toBe(0);
    expect(lua.lua_type(L, -1)).toBe(lua.LUA_TUSERDATA);
  });

  it('keeps no object alive that Lua and JS have let go', async () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const { L, bindings } = createLuaState(task(), api, () => services(task()));
    const refs: WeakRef<object>[] = [];
    for (let i = 0; i < 50; i++) {
      const obj = { output: Buffer.alloc(64 * 1024) };
      refs.push(new WeakRef(obj));
      bindings.pushInstance(L, cls, obj);
      lua.lua_pop(L, 1);
    }
    const held = { output: Buffer.alloc(16) };
    bindings.pushInstance(L, cls, held);
    lua.lua_setglobal(L, 'kept'); // still reachable from Lua: stays the same value
    await new Promise((resolve) => setTimeout(resolve, 0)); // a WeakRef holds its target until the job ends
    gc();
    // all but the last: fengari leaves a popped value in its stack slot until the slot is reused
    expect(refs.slice(0, -1).filter((r) => r.deref() !== undefined)).toHaveLength(0);
    lua.lua_getglobal(L, 'kept');
    bindings.pushInstance(L, cls, held);
    expect(lua.lua_rawequal(L, -1, -2)).toBe(1);
  });
});
