/**
 * The driver: resumes a runtime thread (top-level chunk or test body) and,
 * each time it suspends for a host call, awaits the promise against the
 * current deadline and resumes it again.
 */
import { lua, type LuaState } from '../lua/api.js';
import { authorLocation } from '../lua/debug-info.js';
import type { PendingHostCall, Runtime, Settled } from './runtime.js';
import { MAX_TIMER_MS } from './timer.js';


/** Runs `co` (function and arguments already on its stack) to completion; returns lua_resume's final status. */
export async function runThread(rt: Runtime, co: LuaState, nargs: number): Promise<number> {
  for (;;) {
    const status = lua.lua_resume(co, null, nargs);
    nargs = 0;
    if (status !== lua.LUA_YIELD) return status;
    const pending = rt.pending;
    rt.pending = null;
    // coroutine.yield is refused in runtime threads, so only host calls suspend them.
    if (pending === null) throw new Error('internal: a runtime thread yielded without a host call');
    rt.settled = await settle(rt, pending);
  }
}

async function settle(rt: Runtime, pending: PendingHostCall): Promise<Settled> {
  const outcome = pending.promise.then(
    (value): Settled => ({ kind: 'value', value }),
    (error): Settled => ({ kind: 'error', error }),
  );
  const remaining = rt.deadline - performance.now();
  if (rt.abort !== null) return { kind: 'abort' };
  if (remaining <= 0) {
    rt.timeUp(authorLocation(pending.L, 0));
    return { kind: 'abort' };
  }
  if (remaining > MAX_TIMER_MS) return outcome;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<null>((resolve) => {
    timer = setTimeout(resolve, remaining, null);
  });
  const first = await Promise.race([outcome, timedOut]);
  clearTimeout(timer);
  if (first === null) {
    rt.timeUp(authorLocation(pending.L, 0));
    return { kind: 'abort' };
  }
  return first;
}
