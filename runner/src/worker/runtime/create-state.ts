/**
 * A fresh Lua state for one test file: the standard libraries (with the
 * replacements that keep test code from taking the runner down), the watchdog,
 * and the API bindings from the schema.
 */
import type { FileTask } from '@provium/types';
import { lauxlib, lua, lualib, type LuaCFunction, type LuaState } from '../lua/api.js';
import { pushText } from '../lua/values.js';
import { StateBindings } from '../binding/classes.js';
import type { CompiledApi } from '../binding/compile.js';
import type { FileServices } from '../binding/registry.js';
import { openIo } from '../stdlib/io.js';
import { patchOs } from '../stdlib/os.js';
import { print } from '../stdlib/print.js';
import { coIsyieldable, coResume, coRunning, coWrap, coYield } from './coroutines.js';
import { jsFunctionAt, markYieldable } from './non-yieldable.js';
import { pcall, xpcall } from './protected.js';
import { setUpRequire } from './require.js';
import { Runtime } from './runtime.js';
import { debugGethook, debugSethook, installWatchdog } from './watchdog.js';

export interface LuaFileState {
  L: LuaState;
  rt: Runtime;
  bindings: StateBindings;
}

const LIBS: [string, LuaCFunction][] = [
  ['_G', lualib.luaopen_base],
  ['package', lualib.luaopen_package],
  ['coroutine', lualib.luaopen_coroutine],
  ['table', lualib.luaopen_table],
  ['os', lualib.luaopen_os],
  ['string', lualib.luaopen_string],
  ['math', lualib.luaopen_math],
  ['utf8', lualib.luaopen_utf8],
  ['debug', lualib.luaopen_debug],
];

/** A JS exception escaping a host function becomes a Lua error (it is a bug in Provium, so say so). */
function nativeError(L: LuaState): number {
  const e = lua.lua_touserdata(L, 1) as unknown;
  pushText(L, `internal error in the Provium runtime: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  return 1;
}

function notInTests(L: LuaState): number {
  pushText(L, 'debug.debug is not available in tests (there is no console to read from)');
  return lua.lua_error(L);
}

function setFields(L: LuaState, table: string, fields: Record<string, LuaCFunction>): void {
  lua.lua_getglobal(L, table);
  for (const [name, fn] of Object.entries(fields)) {
    lua.lua_pushcfunction(L, fn);
    lua.lua_setfield(L, -2, name);
  }
  lua.lua_pop(L, 1);
}

export function createLuaState(task: FileTask, api: CompiledApi, services: (rt: Runtime) => FileServices): LuaFileState {
  const L = lauxlib.luaL_newstate();
  const rt = new Runtime(L, task);
  lua.lua_atnativeerror(L, nativeError);
  for (const [name, open] of LIBS) {
    lauxlib.luaL_requiref(L, name, open, true);
    lua.lua_pop(L, 1);
  }
  openIo(L);
  lua.lua_pushglobaltable(L);
  for (const [name, fn] of Object.entries({ print, pcall, xpcall })) {
    lua.lua_pushcfunction(L, fn);
    lua.lua_setfield(L, -2, name);
  }
  lua.lua_getfield(L, -1, 'dofile');
  markYieldable(jsFunctionAt(L, -1)!);
  lua.lua_pop(L, 2);
  setFields(L, 'coroutine', { resume: coResume, wrap: coWrap, yield: coYield, isyieldable: coIsyieldable, running: coRunning });
  setFields(L, 'debug', { sethook: debugSethook, gethook: debugGethook, debug: notInTests });
  lua.lua_getglobal(L, 'os');
  patchOs(L);
  lua.lua_pop(L, 1);
  setUpRequire(L, task.roots);
  installWatchdog(L);
  const bindings = new StateBindings(L, api, services(rt), rt);
  bindings.installGlobals(L);
  return { L, rt, bindings };
}
