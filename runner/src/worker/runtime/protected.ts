/**
 * pcall and xpcall that cannot swallow an abort: once a timeout, t:skip() or
 * os.exit is in force, a caught error is raised again. Otherwise they behave
 * like Lua 5.3's (yieldable, same results).
 */
import { lua, type LuaState } from '../lua/api.js';
import { raise } from '../lua/values.js';
import { throwAbort } from './host-call.js';
import { markYieldable } from './non-yieldable.js';
import { runtimeOf } from './runtime.js';

function finishPcall(L: LuaState, status: number, extra: number): number {
  if (status !== lua.LUA_OK && status !== lua.LUA_YIELD) {
    const rt = runtimeOf(L);
    if (rt.abort !== null) throwAbort(L, rt);
    lua.lua_pushboolean(L, false);
    lua.lua_pushvalue(L, -2);
    return 2;
  }
  return lua.lua_gettop(L) - extra;
}

export function pcall(L: LuaState): number {
  if (lua.lua_type(L, 1) === lua.LUA_TNONE) raise(L, "bad argument #1 to 'pcall' (value expected)", 0);
  lua.lua_pushboolean(L, true);
  lua.lua_insert(L, 1);
  const status = lua.lua_pcallk(L, lua.lua_gettop(L) - 2, lua.LUA_MULTRET, 0, 0, finishPcall);
  return finishPcall(L, status, 0);
}

export function xpcall(L: LuaState): number {
  const n = lua.lua_gettop(L);
  if (lua.lua_type(L, 2) !== lua.LUA_TFUNCTION) raise(L, "bad argument #2 to 'xpcall' (function expected)", 0);
  lua.lua_pushboolean(L, true);
  lua.lua_pushvalue(L, 1);
  lua.lua_rotate(L, 3, 2);
  const status = lua.lua_pcallk(L, n - 2, lua.LUA_MULTRET, 2, 2, finishPcall);
  return finishPcall(L, status, 2);
}

markYieldable(pcall, xpcall);
