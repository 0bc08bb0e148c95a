/** The agent's ops on the host: AgentClient, on an AgentConnection (connection.ts). */
import { connect } from 'node:net';
import type { Duplex } from 'node:stream';
import type { AgentRequests, OpenMode } from '@provium/types/agent-protocol';
import {
  commandSpec,
  type AgentClientOptions,
  type CommandOptions,
  type DirEntry,
  type ExecOptions,
  type ExecResult,
  type FileStat,
} from './client-types.js';
import { batchOpRequest, batchOutcomes, batchTimeoutMs, type BatchCall, type BatchOutcome } from './batch.js';
import { AgentConnection, processKey, type Relay } from './connection.js';
import { AgentFile } from './file.js';
import { AgentProcess, exitInfoFrom } from './process.js';
import { entriesFrom, execResultFrom, statFrom } from './results.js';
import type { SendRequest } from './send-request.js';
import { AgentTail } from './tail.js';
import { AgentWorker, type WorkerOptions } from './worker.js';

/** Bytes connectUnix reads at a time. */
const READ_BUFFER_BYTES = 64 * 1024;

export class AgentClient extends AgentConnection {
  /** Performs the handshake on `socket`; on failure the socket is destroyed. */
  static connect(socket: Duplex, options: AgentClientOptions = {}): Promise<AgentClient> {
    return new AgentClient(socket, options).start();
  }

  /**
   * Connects to the unix socket at `path` (QEMU's chardev of the agent's port)
   * and performs the handshake. What the socket reads comes to the client
   * straight from each read (net's `onread`), not through the socket's
   * Readable stream, which added tens of microseconds to every answer's way
   * to the waiting call.
   */
  static connectUnix(path: string, options: AgentClientOptions = {}): Promise<AgentClient> {
    let client: AgentClient | undefined;
    const socket = connect({
      path,
      onread: {
        buffer: Buffer.allocUnsafe(READ_BUFFER_BYTES),
        // The buffer is read into again: frames keep views of their bytes, so each read is copied out.
        callback: (n: number, buf: Uint8Array) => {
          client?.onData(Buffer.from(buf.subarray(0, n)));
          return true;
        },
      },
    });
    client = new AgentClient(socket, options);
    return client.start();
  }

  async ping(): Promise<void> {
    await this.request('ping', {});
  }

  /** Runs a command to completion: a string goes through `/bin/sh -c`, an array is execvp'd. */
  exec(command: string | readonly string[], options: ExecOptions & Relay = {}): Promise<ExecResult> {
    const { stdin, timeoutMs, trace, worker, ...rest } = options;
    const args = {
      ...commandSpec(command, rest),
      worker,
      stdin: typeof stdin === 'string' ? Buffer.from(stdin) : stdin,
      timeout_ms: timeoutMs,
      trace: trace ? true : undefined,
    };
    const requestTimeout = timeoutMs === undefined ? null : timeoutMs + this.requestTimeoutMs;
    return this.call(
      'exec',
      args,
      execResultFrom,
      requestTimeout,
      trace,
    );
  }

  /** Starts a process and streams its output (see AgentProcess); `worker`: as a child of that worker. */
  spawn(command: string | readonly string[], options: CommandOptions & Relay = {}): Promise<AgentProcess> {
    const { worker, ...rest } = options;
    const send: SendRequest = worker === undefined ? this.send : (op, args) => this.request(op, { ...args, worker });
    return this.call('spawn', { ...commandSpec(command, rest), worker }, (msg) => {
      const proc = new AgentProcess(send, msg.proc as number, msg.pid as number);
      this.processes.set(processKey(proc.id, worker), proc);
      return proc;
    });
  }

  /** Starts a worker: a second agent process with its own credentials (see AgentWorker). */
  async spawnWorker(options: WorkerOptions = {}): Promise<AgentWorker> {
    const { worker, pid } = await this.request('worker_spawn', options);
    return new AgentWorker(this, worker, pid);
  }

  async readFile(path: string): Promise<Buffer> {
    return (await this.request('read_file', { path })).data as Buffer;
  }

  /** Creates or truncates `path`. An explicit `mode` is applied exactly (also to an existing file). */
  async writeFile(path: string, data: string | Uint8Array, options: { mode?: number } = {}): Promise<void> {
    await this.request('write_file', { path, data: typeof data === 'string' ? Buffer.from(data) : data, mode: options.mode });
  }

  /** Follows symlinks (listdir tells a symlink entry). */
  async stat(path: string): Promise<FileStat> {
    return statFrom(await this.request('stat', { path }));
  }

  /** Entries sorted by name, without "." and "..". */
  async listdir(path: string): Promise<DirEntry[]> {
    return entriesFrom(await this.request('listdir', { path }));
  }

  async mkdir(path: string, options: { parents?: boolean; mode?: number } = {}): Promise<void> {
    await this.request('mkdir', { path, parents: options.parents, mode: options.mode });
  }

  /** Removes a file, symlink or empty directory. */
  async unlink(path: string): Promise<void> {
    await this.request('unlink', { path });
  }

  async rename(from: string, to: string): Promise<void> {
    await this.request('rename', { from, to });
  }

  async open(path: string, mode: OpenMode = 'r', options: { perm?: number } = {}): Promise<AgentFile> {
    const { handle } = await this.request('open', { path, mode, perm: options.perm });
    return new AgentFile(this.send, path, handle, (id) => this.tailOf('tail_fd', { handle: id }));
  }

  /**
   * Follows a guest file as it grows: from byte `offset`, or (`fromEnd`)
   * `offset` bytes before its end. See the protocol's tail_open.
   */
  tailFile(path: string, offset: number, fromEnd: boolean): Promise<AgentTail> {
    return this.tailOf('tail_open', { path, offset, from_end: fromEnd });
  }

  /** Registers the tail as the answer arrives, ahead of its first event (as spawn does). */
  private tailOf<O extends 'tail_open' | 'tail_fd'>(op: O, args: AgentRequests[O]): Promise<AgentTail> {
    return this.call(op, args, (msg) => {
      const tail = new AgentTail(this.send, msg.tail as number, msg.offset as number, (id) => this.tails.delete(id));
      this.tails.set(tail.id, tail);
      return tail;
    });
  }

  /**
   * Runs the ops in one request, in order, each after the previous one ended;
   * one outcome per op, and a failed op does not stop the later ones.
   */
  batch(calls: readonly BatchCall[]): Promise<BatchOutcome[]> {
    const ops = calls.map(batchOpRequest);
    return this.call('batch', { ops }, (msg) => batchOutcomes(calls, msg.results), batchTimeoutMs(calls, this.requestTimeoutMs));
  }

  /** The guest's clock in seconds since the epoch. */
  async getClock(): Promise<number> {
    const { sec, nsec } = await this.request('clock_get', {});
    return sec + nsec / 1e9;
  }

  /** The guest's clock exactly: whole seconds since the epoch and nanoseconds 0..999999999. */
  async getClockParts(): Promise<{ sec: number; nsec: number }> {
    const { sec, nsec } = await this.request('clock_get', {});
    return { sec, nsec };
  }

  /** Sets the guest's realtime clock exactly (`nsec` 0..999999999). */
  async setClockParts(sec: number, nsec: number): Promise<void> {
    if (!Number.isSafeInteger(sec) || !Number.isInteger(nsec) || nsec < 0 || nsec > 999_999_999) throw new TypeError(`setClockParts: needs integer seconds and nanoseconds 0..999999999, got ${sec}, ${nsec}`);
    await this.request('clock_set', { sec, nsec });
  }

  /** Sets the guest's realtime clock (seconds since the epoch, or a Date). */
  async setClock(time: number | Date): Promise<void> {
    const t = typeof time === 'number' ? time : time.getTime() / 1000;
    if (!Number.isFinite(t)) throw new TypeError(`setClock: time must be a finite number of seconds, got ${time}`);
    const sec = Math.floor(t);
    const nsec = Math.min(999_999_999, Math.round((t - sec) * 1e9));
    await this.request('clock_set', { sec, nsec });
  }

  /** The agent's own log file (its last MiB). */
  async agentLog(): Promise<Buffer> {
    return (await this.request('log', {})).data as Buffer;
  }
}
