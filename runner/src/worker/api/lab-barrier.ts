/**
 * `lab:barrier(name, count, timeout?)` (the sheet's §2): a rendezvous of
 * `count` arrivals under `name`, local to one lab of one file.
 *
 * A file is one Lua state and one host call waits at a time (runtime/), so
 * the parties of a barrier are the author's coroutines: an arrival inside a
 * coroutine that does not complete the round yields to its resumer (a plain
 * `coroutine.yield()` with no values), and every later resume checks again,
 * until the round is complete (true) or the timeout has passed (false, the
 * arrival withdrawn). Their guest work really overlaps: processes started
 * with `run_async` run in the guests while the coroutines take turns in Lua.
 * An arrival outside any coroutine (top-level code, a test body) cannot be
 * met by anyone unless it completes the round: it then waits out its timeout.
 */
import { lua, type LuaState } from '../lua/api.js';
import { raise, toText } from '../lua/values.js';
import { bindingsOf } from '../binding/classes.js';
import { hostAwait, checkpoint } from '../runtime/host-call.js';
import { runtimeOf } from '../runtime/runtime.js';
import { parseDurationText } from '@provium/types';
import type { Lab } from '../vm/lab.js';

interface Arrival {
  released: boolean;
}

interface Barrier {
  /** Fixed by the name's first arrival. */
  count: number;
  /** The current round's arrivals still waiting. */
  waiting: Set<Arrival>;
}

const barriersOf = new WeakMap<Lab, Map<string, Barrier>>();

interface Wait {
  arrival: Arrival;
  barrier: Barrier;
  deadline: number;
}

/** True when the round is complete now: every waiter of the round is released. */
function arrive(b: Barrier, a: Arrival): boolean {
  b.waiting.add(a);
  if (b.waiting.size < b.count) return false;
  for (const w of b.waiting) w.released = true;
  b.waiting.clear();
  return true;
}

/** One resume of a waiting coroutine: true or false when it is over, else yields again. */
function waitInCoroutine(L: LuaState, _status: number, w: Wait): number {
  checkpoint(L, runtimeOf(L)); // the file's and the test's deadlines hold while it takes turns
  if (w.arrival.released) {
    lua.lua_pushboolean(L, true);
    return 1;
  }
  if (performance.now() >= w.deadline) {
    w.barrier.waiting.delete(w.arrival);
    lua.lua_pushboolean(L, false);
    return 1;
  }
  lua.lua_settop(L, 0);
  return lua.lua_yieldk(L, 0, w, waitInCoroutine);
}

/** The raw method: self at 1, name at 2, count at 3, timeout at 4 (checked by the schema). */
export function barrier(L: LuaState, lab: Lab): number {
  const name = toText(L, 2);
  if (!lua.lua_isinteger(L, 3)) raise(L, `lab:barrier: count must be an integer, got ${toText(L, 3)}`);
  const count = Number(lua.lua_tointegerx(L, 3));
  if (count < 1) raise(L, `lab:barrier: count must be at least 1, got ${count}`);
  let seconds = 60;
  if (!lua.lua_isnoneornil(L, 4)) {
    const t = lua.lua_type(L, 4) === lua.LUA_TNUMBER ? lua.lua_tonumber(L, 4) : parseDurationText(toText(L, 4));
    if (t === undefined || !(t >= 0) || !Number.isFinite(t)) raise(L, `lab:barrier: timeout must be a duration of at least 0, got ${toText(L, 4)}`);
    seconds = t;
  }
  const all = barriersOf.get(lab) ?? new Map<string, Barrier>();
  barriersOf.set(lab, all);
  let b = all.get(name);
  if (b === undefined) {
    b = { count, waiting: new Set() };
    all.set(name, b);
  } else if (b.count !== count) {
    bindingsOf(L).services.log(`lab:barrier("${name}", ${count}): this barrier's count is ${b.count} (fixed by its first arrival); returning false without arriving`);
    lua.lua_pushboolean(L, false);
    return 1;
  }
  const arrival: Arrival = { released: false };
  if (arrive(b, arrival)) {
    lua.lua_pushboolean(L, true);
    return 1;
  }
  const w: Wait = { arrival, barrier: b, deadline: performance.now() + seconds * 1000 };
  const rt = runtimeOf(L);
  if (!rt.ownThreads.has(L) && lua.lua_isyieldable(L)) {
    lua.lua_settop(L, 0);
    return lua.lua_yieldk(L, 0, w, waitInCoroutine);
  }
  // No other party can run while this thread waits: only the timeout ends it.
  const held = b;
  return hostAwait(L, 'lab:barrier', (signal) => new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, seconds * 1000);
    signal.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
  }), (L2) => {
    held.waiting.delete(arrival);
    lua.lua_pushboolean(L2, arrival.released);
    return 1;
  });
}
