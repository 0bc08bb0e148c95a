/**
 * A fresh Lua state for one test file: the standard libraries (with the
 * replacements that keep test code from taking the runner down), the watchdog,
 * and the API bindings from the schema.
 */
import type { FileTask } from '@provium/types';
import { lauxlib, lua, lualib, setFunctions, type LuaCFunction, type LuaState } from '../lua/api.js';
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
import { internals, tableAt, type Table, type TableEntry, type TString, type TValue } from './fengari-internals.js';
import { debugGethook, debugSethook, installWatchdog } from './watchdog.js';

export interface LuaFileState {
  L: LuaState;
  rt: Runtime;
  bindings: StateBindings;
}

/** The standard libraries, opened in this order (as luaL_openlibs does, without io: see stdlib/io.ts). */
export const LIBS: [string, LuaCFunction][] = [
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

/** fengari's tag of a light JS function (LUA_TFUNCTION with the light-C-function variant bits). */
const LUA_TLCF = lua.LUA_TFUNCTION | (1 << 4);

function notInTests(L: LuaState): number {
  pushText(L, 'debug.debug is not available in tests (there is no console to read from)');
  return lua.lua_error(L);
}

function setFields(L: LuaState, table: string, fields: Record<string, LuaCFunction>): void {
  lua.lua_getglobal(L, table);
  setFunctions(L, fields);
  lua.lua_pop(L, 1);
}

/** Our replacements in the standard tables: plain JS functions, the same for every state. */
function patchStandardLibraries(L: LuaState): void {
  lua.lua_pushglobaltable(L);
  setFunctions(L, { print, pcall, xpcall });
  lua.lua_getfield(L, -1, 'dofile');
  markYieldable(jsFunctionAt(L, -1)!);
  lua.lua_pop(L, 2);
  setFields(L, 'coroutine', { resume: coResume, wrap: coWrap, yield: coYield, isyieldable: coIsyieldable, running: coRunning });
  setFields(L, 'debug', { sethook: debugSethook, gethook: debugGethook, debug: notInTests });
  lua.lua_getglobal(L, 'os');
  patchOs(L);
  lua.lua_pop(L, 1);
}

/** A library table as made by its luaopen_* (and patched): its entries in insertion order. */
type LibraryTemplate = [TValue, TValue][];

/**
 * The standard library tables, made and patched once per worker in a template
 * state and copied into each new state: copying the entries (shared immutable
 * key strings, JS functions, numbers) costs a fraction of what fengari's
 * luaopen_* do, which make and hash every name again. Only `package` is opened
 * for real: its functions are closures over the state's own tables.
 */
let templates: Map<string, LibraryTemplate> | undefined;

/** The templates by library name (made on first use). */
function libraryTemplates(): Map<string, LibraryTemplate> {
  if (templates) return templates;
  internals(); // from now on, states share the metamethod names
  const T = lauxlib.luaL_newstate();
  // _G's own entries are those of the base library; the other libraries add theirs later.
  let baseKeys: Set<unknown> | undefined;
  for (const [name, open] of LIBS) {
    lauxlib.luaL_requiref(T, name, open, true);
    if (name === '_G') baseKeys = new Set(entriesOf(tableAt(T, -1)).map((e) => e.key.value));
    lua.lua_pop(T, 1);
  }
  patchStandardLibraries(T);
  const made = new Map<string, LibraryTemplate>();
  for (const [name] of LIBS) {
    if (name === 'package') continue;
    lua.lua_getfield(T, lua.LUA_REGISTRYINDEX, '_LOADED');
    lua.lua_getfield(T, -1, name);
    const table = tableAt(T, -1);
    lua.lua_pop(T, 2);
    const entries: LibraryTemplate = [];
    for (const e of entriesOf(table)) {
      if (name === '_G' && !baseKeys!.has(e.key.value)) continue;
      const v = e.value;
      const copyable = v.value === table || (v.type & 0x0f) === lua.LUA_TNUMBER || v.type === lua.LUA_TBOOLEAN || (v.type & 0x0f) === lua.LUA_TSTRING || v.type === LUA_TLCF;
      if (!copyable || (e.key.type & 0x0f) !== lua.LUA_TSTRING) throw new Error(`internal: ${name}.${String(e.key.value)} cannot be copied between Lua states`);
      internals().lstring.luaS_hashlongstr(e.key.value as TString);
      entries.push([e.key, v]);
    }
    made.set(name, entries);
  }
  templates = made;
  return made;
}

function entriesOf(table: Table): TableEntry[] {
  const all: TableEntry[] = [];
  for (let e = table.f; e !== undefined; e = e.n) all.push(e);
  return all;
}

/** Fills `table` with a template's entries (a table-valued entry is the library table itself, like _G._G). */
function copyEntries(L: LuaState, table: Table, entries: LibraryTemplate, self: TValue): void {
  const { luaH_setfrom } = internals().ltable;
  for (const [k, v] of entries) luaH_setfrom(L, table, k, v.type === lua.LUA_TTABLE ? self : v);
}

/** The standard libraries into `L`, as luaL_requiref(name, luaopen_name, 1) of each would leave them, patched. */
function openLibraries(L: LuaState): void {
  const { ltable, lobject } = internals();
  const made = libraryTemplates();
  lauxlib.luaL_getsubtable(L, lua.LUA_REGISTRYINDEX, '_LOADED');
  const loaded = lua.lua_gettop(L);
  for (const [name, open] of LIBS) {
    const template = made.get(name);
    if (template === undefined) {
      lauxlib.luaL_requiref(L, name, open, true);
      lua.lua_pop(L, 1);
      continue;
    }
    if (name === '_G') lua.lua_pushglobaltable(L);
    else lobject.pushobj2s(L, new lobject.TValue(lua.LUA_TTABLE, ltable.luaH_new(L)));
    const table = tableAt(L, -1);
    copyEntries(L, table, template, new lobject.TValue(lua.LUA_TTABLE, table));
    if (name === 'string') {
      // As lstrlib's createmetatable: strings index the string library.
      lua.lua_createtable(L, 0, 1);
      lua.lua_pushvalue(L, -2);
      lua.lua_setfield(L, -2, '__index');
      lua.lua_pushstring(L, '');
      lua.lua_pushvalue(L, -2);
      lua.lua_setmetatable(L, -2);
      lua.lua_pop(L, 2);
    }
    lua.lua_pushvalue(L, -1);
    lua.lua_setfield(L, loaded, name);
    lua.lua_setglobal(L, name);
  }
  lua.lua_pop(L, 1);
}

export function createLuaState(task: FileTask, api: CompiledApi, services: (rt: Runtime) => FileServices): LuaFileState {
  const L = lauxlib.luaL_newstate();
  const rt = new Runtime(L, task);
  lua.lua_atnativeerror(L, nativeError);
  openLibraries(L);
  openIo(L);
  setUpRequire(L, task.roots);
  installWatchdog(L);
  const bindings = new StateBindings(L, api, services(rt), rt);
  bindings.installGlobals(L);
  return { L, rt, bindings };
}
