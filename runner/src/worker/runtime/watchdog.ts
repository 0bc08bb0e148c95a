/**
 * The timeout watchdog: a count hook on every thread checks the deadline every
 * WATCHDOG_COUNT instructions and raises the abort (again and again: a pcall
 * that swallows it does not stop it). `debug.sethook`/`debug.gethook` are
 * wrapped so an author's hook is chained behind the watchdog instead of
 * replacing it.
 */
import { lauxlib, leaveHook, lua, threadSlot, type LuaDebug, type LuaState } from '../lua/api.js';
import { authorLocation } from '../lua/debug-info.js';
import { pushText, toText } from '../lua/values.js';
import { throwAbort } from './host-call.js';
import { runtimeOf } from './runtime.js';

/** Instructions between deadline checks: coarse enough to cost little, fine enough to stop a loop at once. */
export const WATCHDOG_COUNT = 2000;

interface AuthorHook {
  push: (L: LuaState) => void;
  mask: number;
  count: number;
  /** Instructions counted towards the author's `count` so far. */
  pending: number;
  step: number;
}

/** The author's hook of each thread. */
const authorHooks = threadSlot<AuthorHook>('provium.authorHook');
const EVENT_NAMES = ['call', 'return', 'line', 'count', 'tail call'];

function watchdogHook(L: LuaState, ar: LuaDebug): void {
  const author = authorHooks.get(L);
  if (author !== undefined) callAuthorHook(L, ar, author);
  // With an author's hook, check on every event: instructions run inside hooks do
  // not fire hooks, so count events can keep landing inside the author's hook.
  if (ar.event === lua.LUA_HOOKCOUNT || author !== undefined) {
    const rt = runtimeOf(L);
    if (rt.abort !== null || performance.now() >= rt.deadline) {
      if (rt.abort === null) rt.timeUp(authorLocation(L, 0));
      leaveHook(L);
      throwAbort(L, rt);
    }
  }
}

function callAuthorHook(L: LuaState, ar: LuaDebug, h: AuthorHook): void {
  const event = ar.event;
  if (event === lua.LUA_HOOKCOUNT) {
    if (!(h.mask & lua.LUA_MASKCOUNT)) return;
    h.pending += h.step;
    if (h.pending < h.count) return;
    h.pending = 0;
  } else if (event === lua.LUA_HOOKLINE) {
    if (!(h.mask & lua.LUA_MASKLINE)) return;
  } else if (event === lua.LUA_HOOKRET) {
    if (!(h.mask & lua.LUA_MASKRET)) return;
  } else if (!(h.mask & lua.LUA_MASKCALL)) return;
  h.push(L);
  lua.lua_pushstring(L, EVENT_NAMES[event]);
  if (event === lua.LUA_HOOKLINE) lua.lua_pushinteger(L, ar.currentline);
  else lua.lua_pushnil(L);
  lua.lua_call(L, 2, 0);
}

/** Installs the watchdog on `L`; threads created from it later inherit it. */
export function installWatchdog(L: LuaState): void {
  lua.lua_sethook(L, watchdogHook, lua.LUA_MASKCOUNT, WATCHDOG_COUNT);
}

function targetThread(L: LuaState): { L1: LuaState; arg: number } {
  return lua.lua_type(L, 1) === lua.LUA_TTHREAD ? { L1: lua.lua_tothread(L, 1)!, arg: 1 } : { L1: L, arg: 0 };
}

/** debug.sethook([thread,] hook, mask [, count]): chains the author's hook behind the watchdog. */
export function debugSethook(L: LuaState): number {
  const { L1, arg } = targetThread(L);
  if (lua.lua_isnoneornil(L, arg + 1)) {
    authorHooks.delete(L1);
    lua.lua_sethook(L1, watchdogHook, lua.LUA_MASKCOUNT, WATCHDOG_COUNT);
    return 0;
  }
  const smask = toText(L, arg + 2);
  if (lua.lua_type(L, arg + 2) !== lua.LUA_TSTRING) lauxlib.luaL_checklstring(L, arg + 2);
  if (lua.lua_type(L, arg + 1) !== lua.LUA_TFUNCTION) {
    pushText(L, `bad argument #${arg + 1} to 'sethook' (function expected)`);
    return lua.lua_error(L);
  }
  const count = lua.lua_isnoneornil(L, arg + 3) ? 0 : lauxlib.luaL_checkinteger(L, arg + 3);
  let mask = 0;
  if (smask.includes('c')) mask |= lua.LUA_MASKCALL;
  if (smask.includes('r')) mask |= lua.LUA_MASKRET;
  if (smask.includes('l')) mask |= lua.LUA_MASKLINE;
  if (count > 0) mask |= lua.LUA_MASKCOUNT;
  const step = count > 0 ? Math.min(count, WATCHDOG_COUNT) : WATCHDOG_COUNT;
  authorHooks.set(L1, { push: lua.lua_toproxy(L, arg + 1), mask, count, pending: 0, step });
  lua.lua_sethook(L1, watchdogHook, lua.LUA_MASKCOUNT | mask, step);
  return 0;
}

/** debug.gethook([thread]): the author's hook, mask and count (the watchdog stays invisible). */
export function debugGethook(L: LuaState): number {
  const { L1 } = targetThread(L);
  const h = authorHooks.get(L1);
  if (h === undefined) {
    lua.lua_pushnil(L);
    lua.lua_pushstring(L, '');
    lua.lua_pushinteger(L, 0);
    return 3;
  }
  h.push(L);
  let smask = '';
  if (h.mask & lua.LUA_MASKCALL) smask += 'c';
  if (h.mask & lua.LUA_MASKRET) smask += 'r';
  if (h.mask & lua.LUA_MASKLINE) smask += 'l';
  lua.lua_pushstring(L, smask);
  lua.lua_pushinteger(L, h.count);
  return 3;
}
