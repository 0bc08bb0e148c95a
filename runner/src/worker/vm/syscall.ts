/**
 * `vm:syscall`, `vm:syscall_async`, `vm:ioctl`, `vm:read_mem` on a VM's agent,
 * and `worker:syscall`/`syscall_async` on one of its workers: results as the
 * Lua API returns them. An async call is a SyscallHandle, interrupted at the
 * end of its scope if nobody awaited it.
 */
import { ioctl, readMem, syscall, syscallAsync, type AgentWorker, type AsyncSyscall, type SyscallCall, type SyscallOutcome } from '@provium/agent';
import type { Lua } from '@provium/types';
import type { VmSession } from './session.js';

export function syscallResult(r: SyscallOutcome): Lua.SyscallResult {
  return { ret: r.ret, result: r.ret, errno: r.errno, out_bufs: r.outBufs };
}

/** The call in the agent, or in `worker` (a worker of the session's agent, from GuestWorker.use()). */
export async function runSyscall(session: VmSession, call: SyscallCall, worker?: AgentWorker): Promise<Lua.SyscallResult> {
  return syscallResult(await session.guard(worker ? worker.syscall(call) : syscall(session.agentFor(), call)));
}

/** `vm:syscall_async()`'s handle: `await()` once. */
export class SyscallHandle {
  private awaited = false;
  private settled = false;

  constructor(
    readonly session: VmSession,
    readonly nr: number,
    private readonly call: AsyncSyscall,
  ) {
    void call.result.then(
      () => (this.settled = true),
      () => (this.settled = true),
    );
  }

  static start(session: VmSession, call: SyscallCall, worker?: AgentWorker): SyscallHandle {
    return new SyscallHandle(session, call.nr, worker ? worker.syscallAsync(call) : syscallAsync(session.agentFor(), call));
  }

  async await(): Promise<Lua.SyscallResult> {
    if (this.awaited) throw new Error(`syscall ${this.nr} was already awaited: await() gives its result once`);
    this.awaited = true;
    return syscallResult(await this.session.guard(this.call.result));
  }

  /** The end of its scope: a call still in flight is interrupted; never raises. */
  async close(): Promise<void> {
    if (this.settled || this.session.state !== 'booted') return;
    await this.call.cancel().catch(() => {});
  }
}

export async function runIoctl(session: VmSession, handle: number, cmd: number, data: Uint8Array, opts: Lua.IoctlOpts): Promise<Lua.IoctlResult> {
  if (!Number.isSafeInteger(Math.trunc(cmd)) || cmd < 0) throw new Error(`cmd must be an ioctl request code (an integer 0 or more), got ${cmd}`);
  const r = await session.guard(ioctl(session.agentFor(), handle, Math.trunc(cmd), data, opts.bufs, opts.ptr_offsets));
  return { ret: r.ret, result: r.ret, out_data: r.outData, out_bufs: r.outBufs };
}

/** The bytes, or the errno of a range that cannot be read. */
export async function readAgentMemory(session: VmSession, addr: bigint, len: number): Promise<Uint8Array | { errno: number }> {
  return session.guard(readMem(session.agentFor(), addr, len));
}
