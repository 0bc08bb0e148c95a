/**
 * The fengari 0.1.5 internals the runtime reaches into to make a Lua state
 * cheap and to push a value again without a registry reference (fengari is
 * pinned; these modules have not changed since 2019), and
 * two patches applied before fengari loads (lua/api.ts imports this module
 * first, so every fengari module picks the patched functions up):
 *
 * - `luaS_hash`, the JS string that keys a Lua string in tables, the lexer and
 *   string comparison: fengari appends `byte.toString(16)` per byte, which was
 *   a tenth of a worker's time (every identifier, every table key) and is
 *   ambiguous ("\1#" and "\18" + "3" collide; "\n" sorted after "\16"). Here it
 *   is the bytes as char codes: injective, and JS string order is byte order.
 * - `luaT_init`, which made the metamethod names (`__index`, ...) as new
 *   strings for every state: now they are made once and shared (Lua strings
 *   are immutable).
 */
import Module, { createRequire } from 'node:module';
import path from 'node:path';

export interface TString {
  hash: string | null;
  realstring: Uint8Array;
}
/** fengari's tagged value: `type` is a LUA_T* tag (with variant bits), `value` the JS value. */
export interface TValue {
  type: number;
  value: unknown;
}
export interface TableEntry {
  key: TValue;
  value: TValue;
  /** Next entry in insertion order (what `next` walks). */
  n: TableEntry | undefined;
}
export interface Table {
  /** First entry in insertion order. */
  f: TableEntry | undefined;
  metatable: Table | null;
}
interface InternalState {
  top: number;
  stack: TValue[];
  l_G: { l_registry: TValue; tmname: TString[] };
}

const require = createRequire(import.meta.url);

/**
 * fengari loads `readline-sync` (for debug.debug) and `tmp` (for os.tmpname)
 * when it loads, a tenth of a worker's start-up; the runtime replaces both
 * functions. They load on first use instead.
 */
function loadOnFirstUse(request: string, from: string, record: string[] = []): void {
  const file = require.resolve(request, { paths: [from] });
  if (require.cache[file]) return;
  const calls: [string, unknown[]][] = [];
  let real: Record<string, unknown> | undefined;
  const load = () => {
    if (real === undefined) {
      delete require.cache[file];
      real = require(file) as Record<string, unknown>;
      for (const [name, args] of calls) (real[name] as (...a: unknown[]) => unknown)(...args);
    }
    return real;
  };
  const stub = new Module(file);
  stub.filename = file;
  stub.loaded = true;
  stub.exports = new Proxy(
    {},
    {
      get: (_, name: string) => (real === undefined && record.includes(name) ? (...args: unknown[]) => void calls.push([name, args]) : load()[name]),
      has: (_, name: string) => name in load(),
    },
  );
  require.cache[file] = stub;
}
const fengariDir = path.dirname(require.resolve('fengari/src/fengari.js'));
loadOnFirstUse('readline-sync', fengariDir, ['setDefaultOptions']);
loadOnFirstUse('tmp', fengariDir);
const lstring = require('fengari/src/lstring.js') as {
  luaS_hash: (s: Uint8Array) => string;
  luaS_hashlongstr: (ts: TString) => string;
  luaS_new: (L: unknown, s: Uint8Array) => TString;
};

const fromCharCode = String.fromCharCode;
const CHUNK = 8192;

function hashBytes(str: Uint8Array): string {
  const n = str.length;
  if (n <= CHUNK) return '|' + fromCharCode.apply(null, str as unknown as number[]);
  let s = '|';
  for (let i = 0; i < n; i += CHUNK) s += fromCharCode.apply(null, str.subarray(i, i + CHUNK) as unknown as number[]);
  return s;
}

lstring.luaS_hash = hashBytes;
lstring.luaS_hashlongstr = (ts: TString) => (ts.hash ??= hashBytes(ts.realstring));

/**
 * Lua strings made once per worker for JS strings used as names (table keys,
 * globals, registry keys), shared by every state: fengari's luaS_new copies
 * its bytes and the new string is hashed again at each use. luaS_new returns
 * the shared string when given the bytes from `luaKey`.
 */
const sharedStrings = new WeakMap<Uint8Array, TString>();
const originalNew = lstring.luaS_new;
// A function, not an arrow: ltm calls it with `new`.
lstring.luaS_new = function (L: unknown, str: Uint8Array) {
  return sharedStrings.get(str) ?? originalNew(L, str);
};

const keys = new Map<string, Uint8Array>();
const KEY_MAX_LENGTH = 64;
const KEYS_MAX = 10_000;

/**
 * The bytes to pass for `name` to fengari's API (lua_getfield, lua_setglobal,
 * ...): the shared string's for a short ASCII name (fengari encodes those the
 * same way), else `name` itself. A bounded cache: names are mostly constants.
 */
export function luaKey(name: string): Uint8Array | string {
  const cached = keys.get(name);
  if (cached !== undefined) return cached;
  if (name.length > KEY_MAX_LENGTH || keys.size >= KEYS_MAX || !/^[\x00-\x7f]*$/.test(name)) return name;
  const bytes = Uint8Array.from(name, (c) => c.charCodeAt(0));
  const ts = originalNew(null, bytes);
  lstring.luaS_hashlongstr(ts);
  sharedStrings.set(bytes, ts);
  keys.set(name, bytes);
  return bytes;
}

interface Internals {
  ltable: {
    luaH_new: (L: unknown) => Table;
    luaH_setfrom: (L: unknown, t: Table, key: TValue, value: TValue) => void;
  };
  lobject: {
    TValue: new (type: number, value: unknown) => TValue;
    pushobj2s: (L: unknown, tv: TValue) => void;
  };
  lstring: typeof lstring;
}
let loaded: Internals | undefined;

/**
 * The internal modules, once fengari has loaded (requiring them before would
 * break its circular imports); the first call also shares the metamethod names.
 */
export function internals(): Internals {
  if (loaded) return loaded;
  const ltm = require('fengari/src/ltm.js') as { luaT_init: (L: InternalState) => void; TMS: { TM_N: number } };
  const originalTmInit = ltm.luaT_init;
  let tmNames: TString[] | undefined;
  // lstate calls it as ltm.luaT_init(L), so replacing the export is enough.
  ltm.luaT_init = (L: InternalState) => {
    if (tmNames === undefined) {
      const probe = { l_G: { tmname: new Array<TString>(ltm.TMS.TM_N) } } as InternalState;
      originalTmInit(probe);
      tmNames = probe.l_G.tmname;
      for (const ts of tmNames) lstring.luaS_hashlongstr(ts);
    }
    const names = L.l_G.tmname;
    for (let i = 0; i < tmNames.length; i++) names[i] = tmNames[i];
  };
  loaded = { ltable: require('fengari/src/ltable.js') as Internals['ltable'], lobject: require('fengari/src/lobject.js') as Internals['lobject'], lstring };
  return loaded;
}

/** The value at stack index `idx` < 0, to push again later with pushValue. */
export function valueAt(L: unknown, idx: number): TValue {
  const s = L as InternalState;
  if (idx >= 0) throw new Error('internal: valueAt takes a negative index');
  // a copy: fengari reuses stack slots in place
  const { type, value } = s.stack[s.top + idx];
  return { type, value };
}

/** Pushes a value taken by valueAt: the same Lua value again (a userdata stays the same object). */
export function pushValue(L: unknown, value: TValue): void {
  internals().lobject.pushobj2s(L, value);
}

/** The table at stack index `idx`, counted from the top (-1 is the top). */
export function tableAt(L: unknown, idx: number): Table {
  const s = L as InternalState;
  if (idx >= 0) throw new Error('internal: tableAt takes a negative index');
  return s.stack[s.top + idx].value as Table;
}

