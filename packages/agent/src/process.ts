/** A process started with AgentClient.spawn: output as streams, exit as a promise. */
import { EventEmitter } from 'node:events';
import { Readable } from 'node:stream';
import type { ExitStatus } from '@provium/types/agent-protocol';
import type { Value } from './codec.js';
import { AgentConnectionLostError } from './errors.js';
import type { SendRequest } from './send-request.js';

export interface ProcessExitInfo {
  status: ExitStatus;
  /** Exit code; -1 when signalled, -2 when timed out. */
  exitCode: number;
  /** Signal name ("term", "kill", ...) when signalled or timed out, else null. */
  signal: string | null;
}

export function exitInfoFrom(msg: { [key: string]: Value }): ProcessExitInfo {
  return {
    status: msg.status as ExitStatus,
    exitCode: msg.exit_code as number,
    signal: (msg.signal as string | null) ?? null,
  };
}

/**
 * Events: 'exit' (ProcessExitInfo). `stdout`/`stderr` end after the process's
 * last output; data is buffered until read, so an unread stream holds memory.
 */
export class AgentProcess extends EventEmitter {
  readonly stdout = new Readable({ read() {} });
  readonly stderr = new Readable({ read() {} });
  private exitInfo: ProcessExitInfo | undefined;
  private readonly exited: Promise<ProcessExitInfo>;
  private settle!: { resolve: (e: ProcessExitInfo) => void; reject: (e: Error) => void };

  constructor(
    private readonly send: SendRequest,
    /** The agent's id of the process (not the pid). */
    readonly id: number,
    /** Process id in the guest. */
    readonly pid: number,
  ) {
    super();
    this.exited = new Promise((resolve, reject) => {
      this.settle = { resolve, reject };
    });
    // nobody has to call wait(): a lost connection must not become an unhandled rejection
    this.exited.catch(() => {});
  }

  /** The exit, once the process has exited. */
  get exit(): ProcessExitInfo | undefined {
    return this.exitInfo;
  }

  /** Resolves when the process has exited and both streams have ended. */
  wait(): Promise<ProcessExitInfo> {
    return this.exited;
  }

  /** Signals the process group; false when the process had already exited. */
  async kill(signal = 'term'): Promise<boolean> {
    const res = await this.send('proc_kill', { proc: this.id, signal });
    return res.delivered;
  }

  /** Resolves once the data is written into the process's stdin pipe. */
  async write(data: string | Uint8Array): Promise<void> {
    await this.send('proc_write', { proc: this.id, data: typeof data === 'string' ? Buffer.from(data) : data });
  }

  async closeStdin(): Promise<void> {
    await this.send('proc_close_stdin', { proc: this.id });
  }

  /** @internal an event of this process from the agent */
  handleEvent(msg: { [key: string]: Value }): void {
    const stream = msg.stream === 'stderr' ? this.stderr : this.stdout;
    if (msg.ev === 'data') {
      stream.push(msg.data as Buffer);
    } else if (msg.ev === 'eof') {
      stream.push(null);
    } else if (msg.ev === 'exit') {
      this.exitInfo = exitInfoFrom(msg);
      this.settle.resolve(this.exitInfo);
      this.emit('exit', this.exitInfo);
    }
  }

  /** @internal the connection dropped before the process exited */
  connectionLost(reason: string): void {
    this.unreachable(new AgentConnectionLostError(`while process ${this.id} (pid ${this.pid}) was running: ${reason}`));
  }

  /** @internal nothing more will be heard of the process (its connection or its worker is gone): wait() rejects with `err` */
  unreachable(err: Error): void {
    for (const s of [this.stdout, this.stderr]) if (!s.readableEnded) s.push(null);
    this.settle.reject(err);
  }
}
