// Class instances in a Lua state: one Lua value per JS object, and nothing kept
// alive for it once Lua and JS both let go (a loop of vm:run results used to
// hold every result and its output until the file ended).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { API, type FileTask } from '@provium/types';
import { afterAll, expect, it } from 'vitest';
import { lua } from '../lua/api.js';
import { createLuaState } from '../runtime/create-state.js';
import { compileApi } from './compile.js';
import { defaultRegistry, type FileServices } from './registry.js';
import '../implementations.js';

const dir = mkdtempSync(path.join(tmpdir(), 'provium-classes-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const task: FileTask = {
  file: path.join(dir, 'x.test.lua'),
  displayPath: 'x.test.lua',
  roots: [dir],
  selection: { tags: [], noTags: [], includeSlow: false },
  fileTimeoutMs: 60_000,
  timeoutScale: 1,
  workerIndex: 0,
  keepOnFailure: false,
};
const services = () => ({ task, timeoutScale: 1, log() {}, onScopeEnd() {}, onFileEnd() {}, setFileHooks() {}, onTestFailure() {}, vmEvent() {}, setFileTimeout() {} }) as unknown as FileServices;

const api = compileApi(API, defaultRegistry);
const cls = api.classes.get('RunResult')!;

it('pushes an object as the same Lua value every time', () => {
  const { L, bindings } = createLuaState(task, api, services);
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
  const { L, bindings } = createLuaState(task, api, services);
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
