/**
 * Host calls: a JS function called from Lua that must wait for a promise
 * suspends the running Lua thread with `lua_yieldk`; the driver (driver.ts)
 * awaits the promise and resumes the thread, and the continuation here pushes
 * the results (or raises the error) as if the call had returned normally.
 *
 * A host call inside the author's own coroutine travels up through the
 * coroutine wrappers (coroutines.ts), which re-yield it to the driver.
 */
import { lua, type LuaState } from '../lua/api.js';
import { authorLocation } from '../lua/debug-info.js';
import { pushText, raise } from '../lua/values.js';
import { nonYieldableMessage } from './non-yieldable.js';
import { runtimeOf, type Runtime } from './runtime.js';

/** Called in the Lua thread once the awaited value is there; returns the number of results pushed. */
export type AfterAwait<T> = (L: LuaState, value: T) => number;

/**
 * Suspends the running thread until the promise made by `start` settles, then
 * continues with `then`. Must be the `return` of a JS function called from Lua.
 * `what` names the call in errors ("wait_until", "io.popen").
 */
export function hostAwait<T>(L: LuaState, what: string, start: (signal: AbortSignal) => Promise<T>, then: AfterAwait<T>): number {
  const rt = runtimeOf(L);
  checkpoint(L, rt);
  assertCanWait(L, rt, what);
  rt.pending = { promise: start(rt.signal), L };
  return lua.lua_yieldk(L, 0, then, afterHostAwait);
}

/** True when a host call made here could suspend (no raise). */
export function canWait(L: LuaState): boolean {
  return lua.lua_isyieldable(L) && runtimeOf(L).blockedResumers.length === 0;
}

/** Raises the "cannot be called inside ..." error when a host call could not suspend here. */
export function assertCanWait(L: LuaState, rt: Runtime, what: string): void {
  if (!lua.lua_isyieldable(L)) raise(L, nonYieldableMessage(L, what));
  const blocked = rt.blockedResumers.at(-1);
  if (blocked !== undefined) raise(L, nonYieldableMessage(blocked, what));
}

function afterHostAwait(L: LuaState, _status: number, then: AfterAwait<unknown>): number {
  const rt = runtimeOf(L);
  const settled = rt.settled;
  rt.settled = null;
  if (settled === null || settled.kind === 'abort') return throwAbort(L, rt);
  if (settled.kind === 'error') {
    const e = settled.error;
    return raise(L, e instanceof Error ? e.message : String(e));
  }
  return then(L, settled.value);
}

/** Raises the abort in force (timeout, skip, os.exit) or a timeout once the deadline has passed. */
export function checkpoint(L: LuaState, rt: Runtime): void {
  if (rt.abort === null && performance.now() < rt.deadline) return;
  if (rt.abort === null) rt.timeUp(authorLocation(L, 0));
  throwAbort(L, rt);
}

export function throwAbort(L: LuaState, rt: Runtime): never {
  pushText(L, rt.abort?.message ?? 'internal: host call resumed without a result');
  return lua.lua_error(L);
}
