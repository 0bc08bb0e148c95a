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
  // Time the file spends queued for resources is not charged: no deadline runs meanwhile, and it moves later after.
  for (;;) {
    if (rt.abort !== null) return { kind: 'abort' };
    const remaining = rt.isQueued ? Infinity : rt.deadline - performance.now();
    if (remaining <= 0) {
      rt.timeUp(authorLocation(pending.L, 0));
      return { kind: 'abort' };
    }
    let timer: NodeJS.Timeout | undefined;
    let off = () => {};
    const wake = new Promise<'time' | 'queue'>((resolve) => {
      if (remaining <= MAX_TIMER_MS) timer = setTimeout(resolve, remaining, 'time');
      off = rt.onQueueChange(() => resolve('queue'));
    });
    const first = await Promise.race([outcome, wake]);
    clearTimeout(timer);
    off();
    if (first !== 'time' && first !== 'queue') return first;
  }
}
