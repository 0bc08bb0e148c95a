/** A worker of the agent: a second agent process in the guest, with credentials of its own. */
import type { AgentRequests } from '@provium/types/agent-protocol';
import type { AgentClient } from './client.js';
import type { CommandOptions, ExecOptions, ExecResult } from './client-types.js';
import type { AgentProcess } from './process.js';
import { syscall, syscallAsync, type AsyncSyscall, type SyscallCall, type SyscallOutcome } from './syscalls.js';

export type WorkerOptions = AgentRequests['worker_spawn'];

/** Requests made here run in the worker: its commands are its children and have its uid, gid and groups. */
export class AgentWorker {
  constructor(
    private readonly client: AgentClient,
    /** The agent's id of the worker (not its pid). */
    readonly id: number,
    /** Process id of the worker in the guest. */
    readonly pid: number,
  ) {}

  exec(command: string | readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    return this.client.exec(command, { ...options, worker: this.id });
  }

  spawn(command: string | readonly string[], options: CommandOptions = {}): Promise<AgentProcess> {
    return this.client.spawn(command, { ...options, worker: this.id });
  }

  /** The call in the worker's main thread: its credentials, its address space. */
  syscall(call: SyscallCall): Promise<SyscallOutcome> {
    return syscall(this.client, call, this.id);
  }

  /** The call on a thread of the worker's. */
  syscallAsync(call: SyscallCall): AsyncSyscall {
    return syscallAsync(this.client, call, this.id);
  }

  /** Signals the worker process itself; false when it had already exited. */
  async kill(signal = 'term'): Promise<boolean> {
    return (await this.client.request('worker_kill', { worker: this.id, signal })).delivered;
  }

  /** Ends the worker (closes its channel) and returns its exit status: the code, or 128 + the signal. */
  async join(): Promise<number> {
    return (await this.client.request('worker_join', { worker: this.id })).exit_status;
  }
}
