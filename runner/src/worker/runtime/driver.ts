/**
 * The driver: resumes a runtime thread (top-level chunk or test body) and,
 * each time it suspends for a host call, awaits the promise against the
 * current deadline and resumes it again.
 */
import { lua, type LuaState } from '../lua/api.js';
import { authorLocation } from '../lua/debug-info.js';
import type { PendingHostCall, Runtime, Settled } from './runtime.js';
import { timerMs } from './timer.js';

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

/**
 * The timer that ends a waiting host call at the runtime's deadline: one per
 * runtime, re-armed only when the deadline moved (a test began or ended), and
 * holding the event loop only while a call waits. A timer per call (another
 * duration each time, so another timer list) cost more than a quick call's
 * own work on its way back to Lua.
 */
class DeadlineTimer {
  private timer: NodeJS.Timeout | undefined;
  private armedFor = NaN;
  private onDeadline: (() => void) | undefined;

  constructor(private readonly rt: Runtime) {}

  /** Calls `fn` once the deadline passes, unless the returned function is called first. */
  watch(fn: () => void): () => void {
    this.onDeadline = fn;
    if (this.armedFor !== this.rt.deadline) this.arm();
    this.timer!.ref();
    return () => {
      this.onDeadline = undefined;
      this.timer!.unref();
    };
  }

  private arm(): void {
    clearTimeout(this.timer);
    this.armedFor = this.rt.deadline;
    this.timer = setTimeout(() => this.fired(), timerMs(this.rt.deadline - performance.now()));
    if (this.onDeadline === undefined) this.timer.unref();
  }

  /** The file is over: the timer goes (it would keep the runtime until the deadline). */
  stop(): void {
    clearTimeout(this.timer);
    this.armedFor = NaN;
    this.onDeadline = undefined;
  }

  private fired(): void {
    // Time the file spends queued for resources is not charged: the deadline moves later once the wait ends.
    if (this.rt.isQueued) {
      this.armedFor = NaN;
      const off = this.rt.onQueueChange(() => {
        off();
        if (this.onDeadline !== undefined) this.arm();
      });
      return;
    }
    // Node caps a timer at ~24.8 days, and the deadline may have moved since it was armed.
    if (performance.now() < this.rt.deadline) {
      this.arm();
      return;
    }
    this.armedFor = NaN;
    const fn = this.onDeadline;
    this.onDeadline = undefined;
    fn?.();
  }
}

const deadlineTimers = new WeakMap<Runtime, DeadlineTimer>();

/** Once a file's threads are done: drops its runtime's deadline timer. */
export function stopDeadlineTimer(rt: Runtime): void {
  deadlineTimers.get(rt)?.stop();
  deadlineTimers.delete(rt);
}

function settle(rt: Runtime, pending: PendingHostCall): Promise<Settled> {
  return new Promise<Settled>((resolve) => {
    let stop: (() => void) | undefined;
    pending.promise.then(
      (value) => {
        stop?.();
        resolve({ kind: 'value', value });
      },
      (error: unknown) => {
        stop?.();
        resolve({ kind: 'error', error });
      },
    );
    if (rt.abort !== null) {
      resolve({ kind: 'abort' });
      return;
    }
    if (!rt.isQueued && rt.deadline - performance.now() <= 0) {
      rt.timeUp(authorLocation(pending.L, 0));
      resolve({ kind: 'abort' });
      return;
    }
    let timer = deadlineTimers.get(rt);
    if (timer === undefined) deadlineTimers.set(rt, (timer = new DeadlineTimer(rt)));
    stop = timer.watch(() => {
      rt.timeUp(authorLocation(pending.L, 0));
      resolve({ kind: 'abort' });
    });
  });
}
