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
import { callTracer } from './call-trace.js';
import { nonYieldableMessage } from './non-yieldable.js';
import { runtimeOf, type Runtime } from './runtime.js';

/** Called in the Lua thread once the awaited value is there; returns the number of results pushed. */
export type AfterAwait<T> = (L: LuaState, value: T) => number;

/** What the thread does once the promise settled. */
interface Continuation {
  then: AfterAwait<unknown>;
  /** Put in front of a rejection's message ("vm:run: ..."), when given. */
  errorPrefix: string | undefined;
}

/**
 * Suspends the running thread until the promise made by `start` settles, then
 * continues with `then`. Must be the `return` of a JS function called from Lua.
 * `what` names the call in errors ("wait_until", "io.popen"); a rejection is
 * raised with its message, after `errorPrefix` and ": " when that is given.
 */
export function hostAwait<T>(L: LuaState, what: string, start: (signal: AbortSignal) => Promise<T>, then: AfterAwait<T>, errorPrefix?: string): number {
  const rt = runtimeOf(L);
  checkpoint(L, rt);
  assertCanWait(L, rt, what);
  rt.pending = { promise: start(rt.signal), L };
  const k: Continuation = { then: then as AfterAwait<unknown>, errorPrefix };
  return lua.lua_yieldk(L, 0, k, afterHostAwait);
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

function afterHostAwait(L: LuaState, _status: number, k: Continuation): number {
  callTracer?.mark('resumed');
  const rt = runtimeOf(L);
  const settled = rt.settled;
  rt.settled = null;
  if (settled === null || settled.kind === 'abort') return throwAbort(L, rt);
  if (settled.kind === 'error') {
    const e = settled.error;
    const message = e instanceof Error ? e.message : String(e);
    return raise(L, k.errorPrefix === undefined ? message : `${k.errorPrefix}: ${message}`);
  }
  const results = k.then(L, settled.value);
  callTracer?.end();
  return results;
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
