/**
 * How the VM's guest operations read their Lua arguments and shape their
 * results: shared by `vm:<op>` and the batch builder's `b:<op>`, so both take
 * and give the same.
 */
import type { DirEntry, FileStat } from '@provium/agent';
import type { Lua } from '@provium/types';
import { nsNumber } from './nanoseconds.js';

/**
 * `run`'s second argument: options, or (a table without any option key, `{}`
 * included) the argv of a program run without a shell (the original's forms).
 */
export function runOpts(arg2: Lua.RunOpts | string[] | undefined): Lua.RunOpts {
  if (arg2 === undefined) return {};
  if (Array.isArray(arg2)) return { args: arg2 };
  return Object.keys(arg2).length === 0 ? { args: [] } : arg2;
}

export const commandOf = (cmd: string, o: Lua.RunOpts) => (o.args ? [cmd, ...o.args] : cmd);
export const commandText = (cmd: string, o: Lua.RunOpts) => (o.args ? [cmd, ...o.args].join(' ') : cmd);

/** The run's timeout in ms, scaled by --timeout-scale (`timeout_ms` wins over `timeout`); undefined for none. */
export function runTimeoutMs(o: Lua.RunOpts, timeoutScale: number): number | undefined {
  if (o.timeout_ms !== undefined) return o.timeout_ms * timeoutScale;
  return o.timeout === undefined ? undefined : o.timeout * 1000 * timeoutScale;
}

/** `vm:stat`'s table. */
export const statTable = (st: FileStat) => ({ size: st.size, mtime: st.mtime, mtime_ns: nsNumber(st.mtimeSec, st.mtimeNsec), perm: st.perm, entry_type: st.entryType });

/** `vm:listdir`'s list. */
export const entriesTable = (entries: DirEntry[]) => entries.map((e) => ({ name: e.name, entry_type: e.entryType }));
