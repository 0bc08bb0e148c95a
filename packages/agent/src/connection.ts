/**
 * The protocol's side on the host, over any Duplex (a net.Socket to QEMU's
 * virtio-serial chardev, or to a host-mode agent in tests): the handshake,
 * frames both ways, requests and their answers, and the loss of the
 * connection. AgentClient (client.ts) puts the ops on top.
 *
 * Handshake: the host sends `hello` at once and again every helloIntervalMs
 * until the agent answers with the same nonce. QEMU accepts the connection
 * before the guest has opened its port; hellos wait in the socket until the
 * agent reads them, and replies to extra hellos are ignored.
 */
import { randomInt } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import {
  AGENT_GUEST_LOG_PATH,
  DEFAULT_AGENT_PORT_NAME,
  PROTOCOL_VERSION,
  type AgentErrorBody,
  type AgentOp,
  type AgentRequests,
  type AgentResults,
  type ExecAgentTrace,
} from '@provium/types/agent-protocol';
import type { AgentClientOptions, ExecTrace } from './client-types.js';
import { decodeValue, type Value } from './codec.js';
import { AgentConnectionLostError, AgentError, AgentProtocolVersionError, AgentTimeoutError } from './errors.js';
import { encodeMessageFrame, FrameDecoder } from './framing.js';
import type { AgentProcess } from './process.js';
import type { AgentTail } from './tail.js';

export type Message = { [key: string]: Value };

/** Where a request runs: in the agent, or relayed to one of its workers. */
export interface Relay {
  worker?: number;
}

/** Processes of the agent and of each worker are numbered apart. */
export const processKey = (proc: number, worker?: number): string => (worker === undefined ? String(proc) : `${worker}:${proc}`);

interface Pending {
  op: AgentOp;
  id: number;
  resolve: (msg: Message) => void;
  reject: (err: Error) => void;
  timer?: NodeJS.Timeout;
  trace?: ExecTrace;
}

/**
 * Events: 'notice' (text: a frame one side could not use; both sides carry on),
 * 'close' (reason: the connection is gone; every pending request was rejected),
 * 'worker_exit' (worker id, exit status: a worker ended, by dying or by a join).
 */
export class AgentConnection extends EventEmitter {
  private readonly decoder = new FrameDecoder();
  private readonly pending = new Map<number, Pending>();
  protected readonly processes = new Map<string, AgentProcess>();
  protected readonly tails = new Map<number, AgentTail>();
  private nextId = 1;
  private lostReason: string | undefined;
  private pid = 0;
  private onHello: ((msg: Message) => void) | undefined;
  private onLost: ((reason: string) => void) | undefined;
  protected readonly requestTimeoutMs: number;
  /** Pending requests with a trace: only then does an arriving chunk take the time. */
  private traced = 0;

  protected constructor(
    private readonly socket: Duplex,
    private readonly options: AgentClientOptions,
  ) {
    super();
    this.requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => this.lost('the agent side closed the connection'));
    socket.on('close', () => this.lost('the socket closed'));
    socket.on('error', (err: Error) => this.lost(err.message));
  }

  protected async start(): Promise<this> {
    try {
      await this.handshake();
    } catch (err) {
      this.socket.destroy();
      throw err;
    }
    return this;
  }

  /** The agent's process id in the guest. */
  get agentPid(): number {
    return this.pid;
  }

  /** Why the connection is gone, or undefined while it is up. */
  get closedReason(): string | undefined {
    return this.lostReason;
  }

  private handshake(): Promise<void> {
    const intervalMs = this.options.helloIntervalMs ?? 200;
    const timeoutMs = this.options.handshakeTimeoutMs ?? 60_000;
    const nonce = randomInt(1, 2 ** 31);
    const hello = encodeMessageFrame({ t: 'hello', version: PROTOCOL_VERSION, nonce });
    return new Promise((resolve, reject) => {
      const finish = (err?: Error): void => {
        clearInterval(interval);
        clearTimeout(timer);
        this.onHello = undefined;
        this.onLost = undefined;
        if (err) reject(err);
        else resolve();
      };
      const send = (): void => {
        if (!this.lostReason) this.socket.write(hello);
      };
      const interval = setInterval(send, intervalMs);
      const timer = setTimeout(
        () =>
          finish(
            new AgentTimeoutError(
              `agent did not answer the handshake within ${timeoutMs} ms: is the guest running ` +
                `\`provium-agent --port ${DEFAULT_AGENT_PORT_NAME}\`? (its log is ${AGENT_GUEST_LOG_PATH} in the guest)`,
            ),
          ),
        timeoutMs,
      );
      this.onHello = (msg) => {
        if (msg.nonce !== nonce) return; // a reply meant for an earlier client
        if (msg.ok !== true || msg.version !== PROTOCOL_VERSION) {
          finish(new AgentProtocolVersionError(msg.version as number, PROTOCOL_VERSION));
          return;
        }
        this.pid = msg.pid as number;
        finish();
      };
      this.onLost = (reason) => finish(new AgentConnectionLostError(`during the handshake: ${reason}`));
      if (this.lostReason) finish(new AgentConnectionLostError(`before the handshake: ${this.lostReason}`));
      else send();
    });
  }

  protected onData(chunk: Buffer): void {
    if (this.lostReason) return;
    const arrived = this.traced > 0 ? performance.now() : 0;
    const { frames, problems } = this.decoder.push(chunk);
    for (const problem of problems) this.emit('notice', `host: ${problem}`);
    for (const frame of frames) {
      let msg: Value;
      try {
        msg = decodeValue(frame);
      } catch (err) {
        this.emit('notice', `host: undecodable frame from the agent: ${(err as Error).message}`);
        continue;
      }
      if (msg === null || typeof msg !== 'object' || Array.isArray(msg) || msg instanceof Uint8Array) {
        this.emit('notice', 'host: frame from the agent is not a message map');
        continue;
      }
      if (arrived > 0) this.stamp(msg, arrived);
      this.dispatch(msg);
    }
  }

  /** Completes the trace of the request `msg` answers, if it has one. */
  private stamp(msg: Message, arrived: number): void {
    const trace = msg.t === 'res' ? this.pending.get(msg.id as number)?.trace : undefined;
    if (!trace) return;
    trace.arrived = arrived;
    trace.decoded = performance.now();
    if (msg.trace) trace.agent = msg.trace as unknown as ExecAgentTrace;
  }

  /** Takes a request off the pending ones (answered, timed out or lost). */
  private forget(p: Pending): void {
    this.pending.delete(p.id);
    clearTimeout(p.timer);
    if (p.trace) this.traced--;
  }

  private dispatch(msg: Message): void {
    switch (msg.t) {
      case 'hello':
        this.onHello?.(msg);
        return;
      case 'notice':
        this.emit('notice', `agent: ${String(msg.message)}`);
        return;
    }
    // until the handshake completes, anything else is left over from an earlier session
    if (this.onHello) return;
    if (msg.t === 'res') {
      const p = this.pending.get(msg.id as number);
      if (!p) return; // answer to a request that timed out
      this.forget(p);
      if (msg.ok === true) p.resolve(msg);
      else p.reject(new AgentError(p.op, msg.error as unknown as AgentErrorBody));
    } else if (msg.t === 'ev' && (msg.ev === 'tail_data' || msg.ev === 'tail_end')) {
      this.tails.get(msg.tail as number)?.handleEvent(msg);
    } else if (msg.t === 'ev') {
      const worker = msg.worker === undefined ? undefined : (msg.worker as number);
      if (msg.ev === 'worker_exit') {
        this.workerExited(worker as number, msg.exit_status as number);
        return;
      }
      const key = processKey(msg.proc as number, worker);
      const proc = this.processes.get(key);
      if (!proc) return;
      proc.handleEvent(msg);
      if (msg.ev === 'exit') this.processes.delete(key);
    }
  }

  /** A worker ended (it died, or was joined): its processes can no longer report. */
  private workerExited(worker: number, status: number): void {
    const prefix = `${worker}:`;
    for (const [key, proc] of this.processes) {
      if (!key.startsWith(prefix)) continue;
      const message = `process ${proc.id} (pid ${proc.pid}) of worker ${worker} can no longer be reached: the worker ended (exit status ${status})`;
      proc.unreachable(new AgentError('wait', { code: 'ESRCH', errno: 3, message }));
      this.processes.delete(key);
    }
    this.emit('worker_exit', worker, status);
  }

  private lost(reason: string): void {
    if (this.lostReason) return;
    this.lostReason = reason;
    for (const p of this.pending.values()) {
      this.forget(p);
      p.reject(new AgentConnectionLostError(`while waiting for '${p.op}' (request ${p.id}): ${reason}`));
    }
    for (const proc of this.processes.values()) proc.connectionLost(reason);
    this.processes.clear();
    for (const tail of [...this.tails.values()]) tail.connectionLost(reason);
    this.onLost?.(reason);
    this.emit('close', reason);
  }

  /**
   * Sends one request. `onAnswer` runs synchronously when the response arrives,
   * before any later frame (spawn registers its process there, ahead of its events).
   * `timeoutMs` null: no timeout. `trace`: filled in as the request goes (ExecTrace).
   */
  protected call<O extends AgentOp, T>(
    op: O,
    args: AgentRequests[O] & Relay,
    onAnswer: (msg: Message) => T,
    timeoutMs: number | null = this.requestTimeoutMs,
    trace?: ExecTrace,
  ): Promise<T> {
    if (this.lostReason) {
      return Promise.reject(new AgentConnectionLostError(`before '${op}' was sent: ${this.lostReason}`));
    }
    const id = this.nextId++;
    if (trace) trace.send = performance.now();
    const frame = encodeMessageFrame({ ...args, t: 'req', id, op });
    if (trace) trace.encoded = performance.now();
    return new Promise<T>((resolve, reject) => {
      const p: Pending = {
        op,
        id,
        resolve: (msg) => {
          try {
            resolve(onAnswer(msg));
          } catch (err) {
            reject(err);
          }
        },
        reject,
        trace,
      };
      if (timeoutMs !== null) {
        p.timer = setTimeout(() => {
          this.forget(p);
          reject(new AgentTimeoutError(`agent request '${op}' (request ${id}) got no answer within ${timeoutMs} ms`));
        }, timeoutMs);
      }
      this.pending.set(id, p);
      this.socket.write(frame);
      if (trace) {
        trace.sent = performance.now();
        this.traced++;
      }
    });
  }

  /** Typed raw request: the response fields as the protocol names them. */
  request<O extends AgentOp>(op: O, args: AgentRequests[O] & Relay, timeoutMs?: number | null): Promise<AgentResults[O]> {
    return this.call(op, args, (msg) => msg as unknown as AgentResults[O], timeoutMs);
  }

  protected readonly send = <O extends AgentOp>(op: O, args: AgentRequests[O]): Promise<AgentResults[O]> =>
    this.request(op, args);

  /** Drops the connection; pending requests reject with AgentConnectionLostError carrying `reason`. */
  close(reason = 'closed by the host'): Promise<void> {
    this.lost(reason);
    if (this.socket.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      this.socket.once('close', () => resolve());
      this.socket.destroy();
    });
  }
}
