/**
 * `vm:batch(fn)` and the binding of its builder `b` (the schema's Batch
 * class): `fn` runs at once and records operations on `b`; once it returns
 * they go to the agent as one request, and the entries come back in order.
 */
import type { BatchOutcome } from '@provium/agent';
import { parseType, type Lua } from '@provium/types';
import { bindingsOf } from '../binding/classes.js';
import { pushJs } from '../binding/convert.js';
import { lua, type LuaState } from '../lua/api.js';
import { hostAwait } from '../runtime/host-call.js';
import { BatchBuilder, sendBatch, type BatchRecord } from '../vm/batch.js';
import { execFailure } from '../vm/exec-errors.js';
import type { VmHandle } from '../vm/handles.js';
import { RunResult } from '../vm/results.js';
import { syscallCall } from '../vm/syscall-args.js';
import { syscallResult } from '../vm/syscall.js';
import { commandOf, commandText, entriesTable, runOpts, runTimeoutMs, statTable } from './guest-args.js';

type Entry = { ok?: unknown; err?: string };

function entryOf(o: BatchOutcome, r: BatchRecord): Entry {
  if (!o.ok) return { err: ((o.op === 'exec' ? execFailure(o.error, r.cwd) : o.error) as Error).message };
  switch (o.op) {
    case 'exec':
      return { ok: new RunResult(r.command!, o.value) };
    case 'stat':
      return { ok: statTable(o.value) };
    case 'listdir':
      return { ok: entriesTable(o.value) };
    case 'syscall':
      return { ok: syscallResult(o.value) };
    default:
      return { ok: o.value };
  }
}

interface Pending {
  vm: VmHandle;
  builder: BatchBuilder;
}

/** After `fn`: re-raise its error (nothing is sent), or send what it recorded. */
function afterFn(L: LuaState, status: number, st: Pending): number {
  const records = st.builder.seal();
  if (status !== lua.LUA_OK && status !== lua.LUA_YIELD) return lua.lua_error(L);
  if (records.length === 0) {
    lua.lua_createtable(L, 0, 0);
    return 1;
  }
  const entries = parseType('BatchEntry[]', bindingsOf(L).api.schema);
  return hostAwait(
    L,
    'vm:batch',
    (signal) => sendBatch(st.vm.session, records, signal),
    (L2, outcomes) => pushJs(bindingsOf(L2), L2, outcomes.map((o, i) => entryOf(o, records[i])), entries),
    'vm:batch',
  );
}

/** `vm:batch(fn)` works on the Lua stack: it calls `fn` (protected, to close the builder whatever happens) before it waits. */
export function vmBatch(L: LuaState, vm: VmHandle): number {
  const b = bindingsOf(L);
  const st: Pending = { vm, builder: new BatchBuilder() };
  lua.lua_settop(L, 2);
  lua.lua_pushvalue(L, 2);
  b.pushInstance(L, b.api.classes.get('Batch')!, st.builder);
  return afterFn(L, lua.lua_pcallk(L, 1, 0, 0, st, afterFn), st);
}

function mkdirOpts(opts: boolean | Lua.BatchMkdirOpts | undefined): Lua.BatchMkdirOpts {
  const o = typeof opts === 'boolean' ? { parents: opts } : (opts ?? {});
  if (o.perm !== undefined && !(Number.isInteger(o.perm) && o.perm >= 0 && o.perm <= 0o7777)) {
    throw new Error(`argument #2 'opts': perm must be an integer 0..0o7777 (0..4095), got ${o.perm}`);
  }
  return o;
}

export const batchBinding: Lua.BatchBinding = {
  is: (v) => v instanceof BatchBuilder,
  receiver: 'b',
  callLabel: (b, method) => `b:${method} (operation ${b.nextNumber} of the batch)`,
  tostring: (b) => `Batch(${b.nextNumber - 1} operations)`,
  methods: {
    run: (b, [cmd, arg2], call) => {
      const o = runOpts(arg2);
      const options = { env: o.env, cwd: o.cwd, stdin: o.stdin, timeoutMs: runTimeoutMs(o, call.services.timeoutScale) };
      b.record({ call: { op: 'exec', command: commandOf(cmd, o), options }, command: commandText(cmd, o), cwd: o.cwd });
    },
    read_file: (b, [path]) => b.record({ call: { op: 'read_file', path } }),
    write_file: (b, [path, data]) => b.record({ call: { op: 'write_file', path, data } }),
    stat: (b, [path]) => b.record({ call: { op: 'stat', path } }),
    listdir: (b, [path]) => b.record({ call: { op: 'listdir', path } }),
    mkdir: (b, [path, opts]) => {
      const o = mkdirOpts(opts);
      b.record({ call: { op: 'mkdir', path, parents: o.parents === true, mode: o.perm } });
    },
    unlink: (b, [path]) => b.record({ call: { op: 'unlink', path } }),
    rename: (b, [from, to]) => b.record({ call: { op: 'rename', from, to } }),
    syscall: (b, [nr, ...rest]) => {
      // Only the integer form: a batch has no async calls, and its syscall answers stay small.
      if (rest[0] !== null && typeof rest[0] === 'object' && !(rest[0] instanceof Uint8Array)) {
        throw new Error("argument #2 'a1': the table form {args=, bufs=, ...} cannot be batched: give integer arguments b:syscall(nr, a1, ..., a6), or make the call with vm:syscall outside the batch");
      }
      b.record({ call: { op: 'syscall', call: syscallCall(nr, rest, false, () => 0) } });
    },
  },
};
