/**
 * The disk thread. The thread that starts the service (the runner's main
 * thread) hands a MessagePort to every thread that runs VMs (`connect()`,
 * transferable); there `new DiskClient(port)` starts and steers disks. The
 * NBD servers themselves run in the disk thread, so a thread stuck in Lua
 * never stalls its guests' disks.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { DiskClient } from './client.js';
import type { ControlMessage, ControlReply, DiskServiceStats } from './service-protocol.js';

/** The compiled worker script (the sources run under vitest; the thread needs the built file). */
function workerScript(): URL {
  const here = import.meta.url;
  const url = here.endsWith('.ts') ? new URL('../dist/service-worker.js', here) : new URL('./service-worker.js', here);
  if (!existsSync(fileURLToPath(url))) throw new Error(`${fileURLToPath(url)} is missing: build the workspace first (npm run build)`);
  return url;
}

export class DiskService {
  private nextId = 1;
  private readonly waiting = new Map<number, (v: unknown) => void>();
  private stopped: Promise<void> | undefined;
  private readonly exited: Promise<void>;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (msg: ControlReply) => {
      if (msg.kind !== 'reply') return;
      this.waiting.get(msg.id)?.(msg.value);
      this.waiting.delete(msg.id);
    });
    this.exited = new Promise((resolve) => worker.once('exit', () => resolve()));
  }

  /** Starts the disk thread. It does not keep the process alive on its own (stop() ends it). */
  static async start(): Promise<DiskService> {
    const worker = new Worker(workerScript(), { name: 'provium-disk' });
    await new Promise<void>((resolve, reject) => {
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`the disk thread exited (code ${code}) while starting`)));
      worker.once('message', (msg: ControlReply) => {
        if (msg.kind === 'ready') resolve();
      });
    });
    worker.removeAllListeners('error');
    worker.removeAllListeners('exit');
    worker.on('error', () => {}); // an uncaught error ends the thread; clients see their ports close
    worker.unref();
    return new DiskService(worker);
  }

  /** The disk thread's id (threadId in the worker_threads sense). */
  get threadId(): number {
    return this.worker.threadId;
  }

  /** A new client port: transfer it to another thread and wrap it there in a DiskClient. */
  connect(): MessagePort {
    const { port1, port2 } = new MessageChannel();
    this.adopt(port2);
    return port1;
  }

  /** Serves a client whose thread made the channel and sent this end (a worker reaching the main thread's service). */
  adopt(port: MessagePort): void {
    this.worker.postMessage({ kind: 'attach', port } satisfies ControlMessage, [port]);
  }

  /** A client for the calling thread. */
  client(): DiskClient {
    return new DiskClient(this.connect());
  }

  stats(): Promise<DiskServiceStats> {
    return this.control('stats') as Promise<DiskServiceStats>;
  }

  /**
   * Stops every disk of every client (unflushed writes committed), removes
   * their sockets and ends the thread. Idempotent. Throws after all that if a
   * disk could not commit its writes, naming it.
   */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      const errors = await Promise.race([this.control('stop') as Promise<string[]>, this.exited.then(() => [])]);
      await this.worker.terminate();
      if (errors.length > 0) throw new Error(errors.join('; '));
    })();
    return this.stopped;
  }

  private control(kind: 'stats' | 'stop'): Promise<unknown> {
    const id = this.nextId++;
    this.worker.ref(); // an answer on its way keeps the caller's thread alive
    return new Promise<unknown>((resolve, reject) => {
      this.waiting.set(id, resolve);
      void this.exited.then(() => reject(new Error('the disk thread has ended')));
      this.worker.postMessage({ kind, id } satisfies ControlMessage);
    }).finally(() => {
      if (this.waiting.size === 0) this.worker.unref();
    });
  }
}
