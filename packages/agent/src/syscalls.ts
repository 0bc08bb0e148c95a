/**
 * The agent's `syscall`, `syscall_cancel`, `ioctl` and `read_mem` ops on the
 * host. Arguments and return values are int64: they travel as 8 little-endian
 * bytes, since the wire's integers (and JS numbers) are exact only to 2^53.
 */
import { AgentError } from './errors.js';
import type { AgentConnection } from './connection.js';
import type { SyscallBuffer, SyscallNested } from '@provium/types/agent-protocol';

export interface SyscallCall {
  nr: number;
  /** Up to six arguments (missing ones are 0). */
  args: readonly bigint[];
  bufs?: SyscallBuffer[];
  ptrs?: number[];
  nested?: SyscallNested[];
  /** Interrupt after this long (the agent's default: 10 s for a call the host waits on, none for an async one). */
  timeoutMs?: number;
}

export interface SyscallOutcome {
  /** The raw return value (a double: exact within ±2^53). */
  ret: number;
  /** 0 unless ret is -1. */
  errno: number;
  outBufs: Buffer[];
}

/** How much longer than a call's own timeout the host waits for its answer. */
const ANSWER_MARGIN_MS = 30_000;
/** The agent's deadline of a call the host waits on when the call names none. */
export const SYSCALL_DEFAULT_TIMEOUT_MS = 10_000;

function int64s(values: readonly bigint[]): Uint8Array {
  const out = Buffer.alloc(values.length * 8);
  values.forEach((v, i) => out.writeBigInt64LE(BigInt.asIntN(64, v), i * 8));
  return out;
}

/** The agent's request for a call (also a batch op's fields). */
export function syscallRequest(call: SyscallCall) {
  return { nr: call.nr, args: int64s(call.args), bufs: call.bufs, ptrs: call.ptrs, nested: call.nested, timeout_ms: call.timeoutMs };
}

export function syscallOutcome(msg: { ret: Uint8Array; errno: number; out_bufs: Uint8Array[] }): SyscallOutcome {
  return { ret: Number(Buffer.from(msg.ret).readBigInt64LE(0)), errno: msg.errno, outBufs: msg.out_bufs.map((b) => Buffer.from(b)) };
}

/** Makes the call in the agent's main thread (or that of its worker `worker`) and waits for it. */
export async function syscall(agent: AgentConnection, call: SyscallCall, worker?: number): Promise<SyscallOutcome> {
  const wait = (call.timeoutMs ?? SYSCALL_DEFAULT_TIMEOUT_MS) + ANSWER_MARGIN_MS;
  return syscallOutcome(await agent.request('syscall', { ...syscallRequest(call), worker }, wait));
}

let nextCallId = 1;

export interface AsyncSyscall {
  readonly result: Promise<SyscallOutcome>;
  /** Interrupts the call if it is still in flight (it then answers, usually with EINTR). */
  cancel(): Promise<void>;
}

/** Starts the call on a thread of the agent's (or of its worker `worker`); `result` settles when it returns. */
export function syscallAsync(agent: AgentConnection, call: SyscallCall, worker?: number): AsyncSyscall {
  const id = nextCallId++;
  const result = agent.request('syscall', { ...syscallRequest(call), async: true, call: id, worker }, null).then(syscallOutcome);
  return {
    result,
    cancel: async () => {
      await agent.request('syscall_cancel', { call: id, worker });
    },
  };
}

export interface IoctlOutcome {
  ret: number;
  outData: Buffer;
  outBufs: Buffer[];
}

/** ioctl on an open file handle of the agent; a negative return rejects with its errno (AgentError). */
export async function ioctl(agent: AgentConnection, handle: number, cmd: number, data: Uint8Array, bufs: SyscallBuffer[] = [], ptrOffsets: number[] = []): Promise<IoctlOutcome> {
  const r = await agent.request('ioctl', { handle, cmd, data, bufs, ptr_offsets: ptrOffsets }, SYSCALL_DEFAULT_TIMEOUT_MS + ANSWER_MARGIN_MS);
  return { ret: r.ret, outData: Buffer.from(r.out_data), outBufs: r.out_bufs.map((b) => Buffer.from(b)) };
}

/** `len` bytes of the agent's memory at `addr`, or the errno of a range that is not (all) readable. */
export async function readMem(agent: AgentConnection, addr: bigint, len: number): Promise<Buffer | { errno: number }> {
  const at = Buffer.alloc(8);
  at.writeBigUInt64LE(BigInt.asUintN(64, addr));
  try {
    return Buffer.from((await agent.request('read_mem', { addr: at, len })).data);
  } catch (e) {
    if (e instanceof AgentError && e.errno > 0) return { errno: e.errno };
    throw e;
  }
}
