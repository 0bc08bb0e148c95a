/**
 * The arguments of `vm:syscall` / `vm:syscall_async` (both forms) and of
 * `vm:read_mem`, as the agent takes them. The agent checks what only it can
 * (buffer sizes, slots, nested offsets) and names the argument at fault.
 */
import type { Lua } from '@provium/types';
import type { SyscallCall } from '@provium/agent';

/** A syscall argument: a number truncated toward zero, wrapped to int64; anything else 0 (the original's rule). */
export function int64Arg(value: unknown, name: string): bigint {
  if (typeof value !== 'number') return 0n;
  if (!Number.isFinite(value)) throw new Error(`${name} must be a finite number, got ${value}`);
  return BigInt.asIntN(64, BigInt(Math.trunc(value)));
}

/** The syscall number: an integer (a float is truncated) within what the wire carries. */
export function syscallNumber(nr: number): number {
  const n = Math.trunc(nr);
  if (!Number.isSafeInteger(n)) throw new Error(`nr must be an integer syscall number, got ${nr}`);
  return n;
}

/**
 * `(nr, spec)` (`isSpec`: the schema checked the table) or `(nr, a1, ..., a6)`
 * → the call. `timeoutMs` converts the spec's duration (seconds).
 */
export function syscallCall(nr: number, rest: unknown[], isSpec: boolean, timeoutMs: (seconds: number) => number): SyscallCall {
  const n = syscallNumber(nr);
  if (!isSpec) {
    const first = rest[0];
    if (first !== null && typeof first === 'object' && !(first instanceof Uint8Array)) throw new Error(badSpec(first as Record<string, unknown>));
    return { nr: n, args: rest.slice(0, 6).map((v, i) => int64Arg(v, `a${i + 1}`)) };
  }
  const spec = rest[0] as Lua.SyscallSpec;
  return {
    nr: n,
    args: (spec.args ?? []).slice(0, 6).map((v, i) => int64Arg(v, `args[${i + 1}]`)),
    bufs: spec.bufs?.map((b, i) => (typeof b === 'number' ? bufSize(b, `bufs[${i + 1}]`) : b)),
    ptrs: spec.ptrs,
    nested: spec.nested,
    timeoutMs: spec.timeout === undefined ? undefined : Math.max(1, Math.round(timeoutMs(spec.timeout))),
  };
}

const SPEC_KEYS = ['args', 'bufs', 'ptrs', 'nested', 'timeout'];

/** Why a table second argument is not a SyscallSpec. */
function badSpec(table: Record<string, unknown>): string {
  const unknown = Object.keys(table).filter((k) => !SPEC_KEYS.includes(k));
  const what = unknown.length
    ? `unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `'${k}'`).join(', ')}`
    : 'a field of the wrong type';
  return `a table after nr is the spec form {args=, bufs=, ptrs=, nested=, timeout=}: it has ${what} (args: numbers; bufs: bytes or sizes; ptrs: slots 0..5; nested: {parent=, child=, offset=}; timeout: a duration)`;
}

/** An out buffer's size: an integer number of bytes (the agent bounds it). */
function bufSize(n: number, name: string): number {
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${name} must be bytes or a size in bytes (an integer 0 or more), got ${n}`);
  return n;
}

/** `vm:read_mem`'s address: a number 0..2^64 (a float is truncated). */
export function memAddress(addr: number): bigint {
  if (!Number.isFinite(addr) || addr < 0 || addr >= 2 ** 64) throw new Error(`addr must be an address, 0 to 2^64, got ${addr}`);
  return BigInt(Math.trunc(addr));
}

/** `vm:read_mem`'s length: 0 or more (above 64 MiB the agent answers EINVAL, as the original does). */
export function memLength(len: number): number {
  if (len < 0) throw new Error(`len must be 0 or more, got ${len}`);
  return len;
}
