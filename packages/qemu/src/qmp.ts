import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { QmpCommandError } from './errors.js';

export interface QmpEvent {
  event: string;
  data: Record<string, unknown>;
  timestamp: { seconds: number; microseconds: number };
}

export interface QmpGreeting {
  version: { qemu: { major: number; minor: number; micro: number }; package: string };
  capabilities: string[];
}

export interface QmpClientOptions {
  /** Default for `execute` and `waitForEvent` when the call gives none. */
  timeoutMs: number;
  /**
   * Called once when the connection drops; the returned error rejects every
   * pending and later call. The QEMU driver waits for the process exit here so
   * callers see why QEMU went away, not just "connection closed".
   */
  disconnectError?: () => Promise<Error>;
}

interface Pending {
  command: string;
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

interface Waiter {
  name: string;
  predicate: (ev: QmpEvent) => boolean;
  resolve: (ev: QmpEvent) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * QMP over a connected stream socket: greeting, capabilities negotiation,
 * commands matched to answers by id, events emitted as `event` and waitable.
 */
export class QmpClient extends EventEmitter<{ event: [QmpEvent] }> {
  private nextId = 1;
  private readonly pending = new Map<string, Pending>();
  private readonly waiters = new Set<Waiter>();
  private closedWith: Error | undefined;
  private buffer = '';

  private constructor(
    private readonly socket: Socket,
    readonly greeting: QmpGreeting,
    private readonly opts: QmpClientOptions,
  ) {
    super();
  }

  /** Reads the greeting and sends `qmp_capabilities`; the socket must be fresh. */
  static async connect(socket: Socket, opts: QmpClientOptions): Promise<QmpClient> {
    const greeting = await readGreeting(socket, opts.timeoutMs);
    const client = new QmpClient(socket, greeting.message, opts);
    client.attach(greeting.rest);
    await client.execute('qmp_capabilities');
    return client;
  }

  get closed(): boolean {
    return this.closedWith !== undefined;
  }

  /** Runs one command; rejects with QmpCommandError when QEMU answers with an error. */
  execute<T = unknown>(command: string, args?: Record<string, unknown>, timeoutMs = this.opts.timeoutMs): Promise<T> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    const id = `p${this.nextId++}`;
    const line = JSON.stringify(args ? { execute: command, arguments: args, id } : { execute: command, id });
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`QMP command ${command} got no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { command, resolve: resolve as (v: unknown) => void, reject, timer });
      this.socket.write(line + '\n');
    });
  }

  /**
   * Resolves with the next event called `name` that satisfies `predicate`.
   * Only events arriving after the call count: register before issuing the
   * command that causes the event. `signal` cancels the wait.
   */
  waitForEvent(
    name: string,
    predicate: (ev: QmpEvent) => boolean = () => true,
    timeoutMs = this.opts.timeoutMs,
    signal?: AbortSignal,
  ): Promise<QmpEvent> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    return new Promise<QmpEvent>((resolve, reject) => {
      const onAbort = () => drop(new Error(`stopped waiting for QMP event ${name}`));
      // Whichever way the wait ends, the listener goes: a VM's signal outlives many waits.
      const settle = () => signal?.removeEventListener('abort', onAbort);
      const drop = (err: Error) => {
        clearTimeout(waiter.timer);
        this.waiters.delete(waiter);
        waiter.reject(err);
      };
      const waiter: Waiter = {
        name,
        predicate,
        resolve: (ev) => { settle(); resolve(ev); },
        reject: (err) => { settle(); reject(err); },
        timer: setTimeout(() => drop(new Error(`timed out after ${timeoutMs} ms waiting for QMP event ${name}`)), timeoutMs),
      };
      this.waiters.add(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Fails everything pending with `err` and closes the socket. Idempotent. */
  close(err: Error = new Error('QMP client closed')): void {
    if (this.closedWith) return;
    this.closedWith = err;
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.pending.clear();
    for (const w of this.waiters) {
      clearTimeout(w.timer);
      w.reject(err);
    }
    this.waiters.clear();
    this.socket.destroy();
  }

  private attach(initial: string): void {
    this.socket.setEncoding('utf8');
    this.socket.on('data', (chunk: string) => this.feed(chunk));
    // 'error' always precedes 'close'; the close handler does the work.
    this.socket.on('error', () => {});
    this.socket.on('close', () => {
      if (this.closedWith) return;
      const why = this.opts.disconnectError?.() ?? Promise.resolve(new Error('QMP connection closed'));
      void why.then((err) => this.close(err));
    });
    if (initial) this.feed(initial);
  }

  private feed(chunk: string): void {
    this.buffer += chunk;
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, nl).trim();
      this.buffer = this.buffer.slice(nl + 1);
      if (line) this.dispatch(line);
    }
  }

  private dispatch(line: string): void {
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(line) as Record<string, unknown>;
    } catch {
      this.close(new Error(`QMP sent a line that is not JSON: ${line.slice(0, 200)}`));
      return;
    }
    if (typeof msg.event === 'string') {
      const ev = { data: {}, ...msg } as unknown as QmpEvent;
      for (const w of [...this.waiters]) {
        if (w.name === ev.event && w.predicate(ev)) {
          clearTimeout(w.timer);
          this.waiters.delete(w);
          w.resolve(ev);
        }
      }
      this.emit('event', ev);
      return;
    }
    const id = typeof msg.id === 'string' ? msg.id : undefined;
    const p = id === undefined ? undefined : this.pending.get(id);
    if (!p || id === undefined) return; // answer to a command that already timed out
    this.pending.delete(id);
    clearTimeout(p.timer);
    if ('error' in msg) {
      const e = msg.error as { class?: string; desc?: string };
      p.reject(new QmpCommandError(p.command, e.class ?? 'GenericError', e.desc ?? JSON.stringify(e)));
    } else {
      p.resolve(msg.return);
    }
  }
}

function readGreeting(socket: Socket, timeoutMs: number): Promise<{ message: QmpGreeting; rest: string }> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const done = (err?: Error, value?: { message: QmpGreeting; rest: string }) => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      if (err) reject(err);
      else resolve(value!);
    };
    const onData = (chunk: Buffer) => {
      buf += chunk.toString('utf8');
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      const first = buf.slice(0, nl).trim();
      let parsed: { QMP?: QmpGreeting };
      try {
        parsed = JSON.parse(first) as { QMP?: QmpGreeting };
      } catch {
        return done(new Error(`QMP greeting is not JSON: ${first.slice(0, 200)}`));
      }
      if (!parsed.QMP) return done(new Error(`expected a QMP greeting, got: ${first.slice(0, 200)}`));
      done(undefined, { message: parsed.QMP, rest: buf.slice(nl + 1) });
    };
    const onClose = () => done(new Error('QMP connection closed before the greeting'));
    // 'error' is followed by 'close', which reports it.
    socket.on('error', () => {});
    const timer = setTimeout(() => done(new Error(`no QMP greeting within ${timeoutMs} ms`)), timeoutMs);
    socket.on('data', onData);
    socket.on('close', onClose);
  });
}
