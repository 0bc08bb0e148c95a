/**
 * The network thread and its clients. The thread that starts the service
 * (the runner's main thread) hands a MessagePort to every thread that builds
 * labs (`connect()`, transferable); there `new RemoteBackend(port)` is the
 * SwitchBackend of its LabNetwork. The switches themselves run in the network
 * thread, so a worker stuck in Lua never stalls the frames of its labs.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import type { CaptureControl, SwitchBackend, SwitchHandle } from './backend.js';
import type { CaptureSink } from './capture.js';
import type { SwitchPolicy } from './impairments.js';
import type { ControlMessage, ControlReply, NetEvent, NetReply, NetRequest, NetStats } from './service-protocol.js';
import type { PortCounters } from './switch.js';

/** The compiled worker script (the sources run under vitest; the thread needs the built file). */
function workerScript(): URL {
  const here = import.meta.url;
  const url = here.endsWith('.ts') ? new URL('../dist/service-worker.js', here) : new URL('./service-worker.js', here);
  if (!existsSync(fileURLToPath(url))) throw new Error(`${fileURLToPath(url)} is missing: build the workspace first (npm run build)`);
  return url;
}

export class NetService {
  private nextId = 1;
  private readonly waiting = new Map<number, (v: unknown) => void>();
  private stopped: Promise<void> | undefined;
  private readonly exited: Promise<void>;

  private constructor(
    private readonly worker: Worker,
    /** The thread's socket directory (`<root>/<pid>-<random>`). */
    readonly socketDir: string,
  ) {
    worker.on('message', (msg: ControlReply) => {
      if (msg.kind !== 'reply') return;
      this.waiting.get(msg.id)?.(msg.value);
      this.waiting.delete(msg.id);
    });
    this.exited = new Promise((resolve) => worker.once('exit', () => resolve()));
  }

  /** Starts the network thread. It does not keep the process alive on its own (stop() ends it). */
  static async start(opts: { root?: string } = {}): Promise<NetService> {
    const worker = new Worker(workerScript(), { workerData: { root: opts.root }, name: 'provium-net' });
    const dir = await new Promise<string>((resolve, reject) => {
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`the network thread exited (code ${code}) while starting`)));
      worker.once('message', (msg: ControlReply) => {
        if (msg.kind === 'ready') resolve(msg.dir);
        else if (msg.kind === 'failed') reject(new Error(`the network thread could not start: ${msg.error}`));
      });
    });
    worker.removeAllListeners('error');
    worker.removeAllListeners('exit');
    worker.on('error', () => {}); // an uncaught error ends the thread; clients see their ports close
    worker.unref();
    return new NetService(worker, dir);
  }

  /** The network thread's id (threadId in the worker_threads sense). */
  get threadId(): number {
    return this.worker.threadId;
  }

  /** A new client port: transfer it to another thread and wrap it there in a RemoteBackend. */
  connect(): MessagePort {
    const { port1, port2 } = new MessageChannel();
    this.worker.postMessage({ kind: 'attach', port: port2 } satisfies ControlMessage, [port2]);
    return port1;
  }

  /** Serves a client port made by another thread (it keeps the other end for its RemoteBackend). */
  adopt(port: MessagePort): void {
    this.worker.postMessage({ kind: 'attach', port } satisfies ControlMessage, [port]);
  }

  /** A backend for the calling thread. */
  backend(): RemoteBackend {
    return new RemoteBackend(this.connect());
  }

  stats(): Promise<NetStats> {
    return this.control('stats') as Promise<NetStats>;
  }

  /** Closes every switch of every client, removes the socket directory and ends the thread. Idempotent. */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      await Promise.race([this.control('stop'), this.exited]);
      await this.worker.terminate();
    })();
    return this.stopped;
  }

  private control(kind: 'stats' | 'stop'): Promise<unknown> {
    const id = this.nextId++;
    this.worker.ref(); // an answer on its way keeps the caller's thread alive
    return new Promise<unknown>((resolve, reject) => {
      this.waiting.set(id, resolve);
      void this.exited.then(() => reject(new Error('the network thread has ended')));
      this.worker.postMessage({ kind, id } satisfies ControlMessage);
    }).finally(() => {
      if (this.waiting.size === 0) this.worker.unref();
    });
  }
}

interface Pending {
  op: string;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

/** A SwitchBackend whose switches run in the network thread. */
export class RemoteBackend implements SwitchBackend {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closedWith: Error | undefined;
  private readonly handles = new Set<string>();
  /** Open captures by the id this backend gave them: where their bytes go. */
  private readonly captures = new Map<number, CaptureSink>();
  private nextCapture = 1;

  constructor(private readonly port: MessagePort) {
    port.on('message', (msg: NetReply | NetEvent) => {
      if ('capture' in msg) {
        this.captureEvent(msg);
        return;
      }
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.ok) p.resolve(msg.value);
      else p.reject(new Error(msg.error));
      this.refresh();
    });
    port.on('close', () => this.fail(new Error('the network thread is gone (its port closed)')));
    port.unref(); // only outstanding requests keep a thread alive
  }

  private fail(err: Error): void {
    if (this.closedWith) return;
    this.closedWith = err;
    for (const sink of this.captures.values()) sink.end();
    this.captures.clear();
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    this.port.unref();
  }

  private captureEvent(msg: NetEvent): void {
    const sink = this.captures.get(msg.capture);
    if (!sink) return;
    if ('end' in msg) {
      this.captures.delete(msg.capture);
      sink.end();
    } else sink.chunk(Buffer.from(msg.data.buffer, msg.data.byteOffset, msg.data.byteLength));
  }

  private async startCapture(sw: string, port: string | undefined, sink: CaptureSink): Promise<CaptureControl> {
    const capture = this.nextCapture++;
    // Registered first: the header may arrive before the answer.
    this.captures.set(capture, sink);
    try {
      await this.call<void>({ op: 'captureStart', sw, capture, ...(port !== undefined ? { port } : {}) });
    } catch (err) {
      this.captures.delete(capture);
      throw err;
    }
    return {
      ack: (bytes) => (this.closedWith ? Promise.resolve(0) : this.call<number>({ op: 'captureAck', sw, capture, bytes })),
      stop: async () => {
        if (!this.closedWith) await this.call<void>({ op: 'captureStop', sw, capture });
        this.captures.delete(capture);
      },
    };
  }

  private refresh(): void {
    if (this.pending.size === 0) this.port.unref();
    else this.port.ref();
  }

  private call<T>(req: NetRequest): Promise<T> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { op: req.op, resolve: resolve as (v: unknown) => void, reject });
      this.refresh();
      this.port.postMessage({ ...req, id });
    });
  }

  async createSwitch(opts: { name: string; seed?: number }): Promise<SwitchHandle> {
    const sw = await this.call<string>({ op: 'create', name: opts.name, seed: opts.seed });
    this.handles.add(sw);
    return {
      id: sw,
      addPort: (port, mac) => this.call<string>({ op: 'addPort', sw, port, mac }),
      removePort: (port) => this.call<void>({ op: 'removePort', sw, port }),
      setPolicy: (policy: SwitchPolicy) => this.call<void>({ op: 'setPolicy', sw, policy }),
      counters: (port) => this.call<PortCounters>({ op: 'counters', sw, port }),
      capture: (port, sink) => this.startCapture(sw, port, sink),
      close: async () => {
        this.handles.delete(sw);
        if (!this.closedWith) await this.call<void>({ op: 'closeSwitch', sw });
      },
    };
  }

  /** Closes this client's switches in the network thread, then the port. */
  async close(): Promise<void> {
    if (this.closedWith) return;
    try {
      await this.call<void>({ op: 'closeAll' });
    } finally {
      this.fail(new Error('network backend closed'));
      this.port.close();
    }
  }
}
