/**
 * coroutine.* wrappers. A host call inside an author's coroutine suspends that
 * coroutine; `resume`/`wrap` notice it (the runtime has a pending host call),
 * suspend their own thread in turn so the call reaches the driver, and resume
 * the inner coroutine when they are resumed. Plain `coroutine.yield` values
 * pass through unchanged. Runtime threads (top-level chunk, test bodies) are not
 * coroutines to the author: yielding from them is an error, as in Lua's main thread.
 */
import { lauxlib, lua, type LuaState } from '../lua/api.js';
import { pushText, raise } from '../lua/values.js';
import { throwAbort } from './host-call.js';
import { markYieldable } from './non-yieldable.js';
import { runtimeOf } from './runtime.js';

interface ResumeCtx {
  co: LuaState;
  /** coroutine.wrap semantics: results only, errors propagate. */
  wrap: boolean;
}

function resumeCoroutine(L: LuaState, ctx: ResumeCtx, narg: number): number {
  const rt = runtimeOf(L);
  const blocked = !lua.lua_isyieldable(L);
  if (blocked) rt.blockedResumers.push(L);
  const status = lua.lua_resume(ctx.co, L, narg);
  if (blocked) rt.blockedResumers.pop();
  return finishResume(L, ctx, status);
}

function finishResume(L: LuaState, ctx: ResumeCtx, status: number): number {
  const rt = runtimeOf(L);
  const co = ctx.co;
  if (status === lua.LUA_YIELD && rt.pending !== null) {
    // A host call inside `co`: pass the suspension up; resume `co` when we are resumed.
    return lua.lua_yieldk(L, 0, ctx, continueResume);
  }
  if (status === lua.LUA_OK || status === lua.LUA_YIELD) {
    const nres = lua.lua_gettop(co);
    if (!lua.lua_checkstack(L, nres + 1)) {
      lua.lua_pop(co, nres);
      return raise(L, 'too many results to resume');
    }
    lua.lua_xmove(co, L, nres);
    if (ctx.wrap) return nres;
    lua.lua_pushboolean(L, true);
    lua.lua_insert(L, -(nres + 1));
    return nres + 1;
  }
  if (rt.abort !== null) throwAbort(L, rt);
  lua.lua_xmove(co, L, 1);
  if (ctx.wrap) {
    if (lua.lua_type(L, -1) === lua.LUA_TSTRING) {
      lauxlib.luaL_where(L, 1);
      lua.lua_insert(L, -2);
      lua.lua_concat(L, 2);
    }
    return lua.lua_error(L);
  }
  lua.lua_pushboolean(L, false);
  lua.lua_insert(L, -2);
  return 2;
}

function continueResume(L: LuaState, _status: number, ctx: ResumeCtx): number {
  return resumeCoroutine(L, ctx, 0);
}

/** Checks that `co` can be resumed; on failure pushes the message and returns false. */
function resumable(L: LuaState, co: LuaState, narg: number): boolean {
  if (!lua.lua_checkstack(co, narg)) {
    lua.lua_pushstring(L, 'too many arguments to resume');
    return false;
  }
  if (lua.lua_status(co) === lua.LUA_OK && lua.lua_gettop(co) === 0) {
    lua.lua_pushstring(L, 'cannot resume dead coroutine');
    return false;
  }
  return true;
}

export function coResume(L: LuaState): number {
  const co = lua.lua_tothread(L, 1);
  if (co === null) raise(L, "bad argument #1 to 'resume' (coroutine expected)", 0);
  const narg = lua.lua_gettop(L) - 1;
  if (!resumable(L, co, narg)) {
    lua.lua_pushboolean(L, false);
    lua.lua_insert(L, -2);
    return 2;
  }
  lua.lua_xmove(L, co, narg);
  return resumeCoroutine(L, { co, wrap: false }, narg);
}

function wrapped(L: LuaState): number {
  const co = lua.lua_tothread(L, lua.lua_upvalueindex(1))!;
  const narg = lua.lua_gettop(L);
  if (!resumable(L, co, narg)) {
    lauxlib.luaL_where(L, 1);
    lua.lua_insert(L, -2);
    lua.lua_concat(L, 2);
    return lua.lua_error(L);
  }
  lua.lua_xmove(L, co, narg);
  return resumeCoroutine(L, { co, wrap: true }, narg);
}

export function coWrap(L: LuaState): number {
  if (lua.lua_type(L, 1) !== lua.LUA_TFUNCTION) raise(L, "bad argument #1 to 'wrap' (function expected)", 0);
  const co = lua.lua_newthread(L);
  lua.lua_pushvalue(L, 1);
  lua.lua_xmove(L, co, 1);
  lua.lua_pushcclosure(L, wrapped, 1);
  return 1;
}

export function coYield(L: LuaState): number {
  if (runtimeOf(L).ownThreads.has(L)) {
    pushText(L, 'attempt to yield from outside a coroutine');
    return lua.lua_error(L);
  }
  return lua.lua_yield(L, lua.lua_gettop(L));
}

export function coIsyieldable(L: LuaState): number {
  lua.lua_pushboolean(L, lua.lua_isyieldable(L) && !runtimeOf(L).ownThreads.has(L));
  return 1;
}

export function coRunning(L: LuaState): number {
  lua.lua_pushthread(L);
  lua.lua_pushboolean(L, runtimeOf(L).ownThreads.has(L));
  return 2;
}

markYieldable(coResume, wrapped);
