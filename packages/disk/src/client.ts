/**
 * A thread's access to the disk thread: `DiskClient.start()` serves an image
 * there and returns a MediatedDisk, whose async methods steer it (the fault
 * policy, power cuts, counters, stop). The methods map one to one onto the
 * Lua API (`disk:fail_reads()` is `failReads()`).
 */
import type { MessagePort } from 'node:worker_threads';
import type { PolicyChange, PolicyState } from './policy.js';
import { diskQemuArgs, nbdUri } from './qemu-args.js';
import type { DiskStats } from './server.js';
import type { DiskAnswers, DiskReply, DiskRequest, StartedDisk } from './service-protocol.js';

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

export class DiskClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closedWith: Error | undefined;

  constructor(private readonly port: MessagePort) {
    port.on('message', (msg: DiskReply) => {
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.ok) p.resolve(msg.value);
      else p.reject(new Error(msg.error));
      this.refresh();
    });
    port.on('close', () => this.fail(new Error('the disk thread is gone (its port closed)')));
    port.unref(); // only outstanding requests keep a thread alive
  }

  /**
   * Serves the raw image `image` on a new unix socket at `socketPath` (which
   * must not exist) as NBD export `name` (default: the image's file name).
   */
  async start(image: string, socketPath: string, opts: { name?: string } = {}): Promise<MediatedDisk> {
    const started = await this.call({ op: 'start', image, socketPath, name: opts.name });
    return new MediatedDisk(started, (req) => this.call(req));
  }

  /** Stops this client's disks (unflushed writes committed) and closes the port. */
  async close(): Promise<void> {
    if (this.closedWith) return;
    try {
      await this.call({ op: 'closeAll' });
    } finally {
      this.fail(new Error('disk client closed'));
      this.port.close();
    }
  }

  private fail(err: Error): void {
    if (this.closedWith) return;
    this.closedWith = err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    this.port.unref();
  }

  private refresh(): void {
    if (this.pending.size === 0) this.port.unref();
    else this.port.ref();
  }

  private call<K extends DiskRequest['op']>(req: Extract<DiskRequest, { op: K }>): Promise<DiskAnswers[K]> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    const id = this.nextId++;
    return new Promise<DiskAnswers[K]>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.refresh();
      this.port.postMessage({ ...req, id });
    });
  }
}

type Call = <K extends DiskRequest['op']>(req: Extract<DiskRequest, { op: K }>) => Promise<DiskAnswers[K]>;

/** One disk served by the disk thread. Policy methods return the whole policy after the change. */
export class MediatedDisk {
  readonly id: string;
  /** NBD export name. */
  readonly name: string;
  readonly socketPath: string;
  /** Bytes. */
  readonly size: number;
  private stopped: Promise<void> | undefined;

  constructor(started: StartedDisk, private readonly call: Call) {
    ({ id: this.id, name: this.name, socketPath: this.socketPath, size: this.size } = started);
  }

  /** `nbd+unix:///NAME?socket=PATH`, for qemu-io and qemu-img. */
  get uri(): string {
    return nbdUri(this.name, this.socketPath);
  }

  /** QEMU arguments attaching the disk to a VM as a virtio disk (`node`: QEMU node name, default `disk-<id>`). */
  qemuArgs(node = `disk-${this.id}`): string[] {
    return diskQemuArgs({ name: this.name, socketPath: this.socketPath, node });
  }

  /** Every guest READ fails with EIO (flushes still succeed); `false` lifts just that. */
  failReads(on = true): Promise<PolicyState> {
    return this.change({ op: 'fail_reads', on });
  }

  /** Every guest WRITE (and WRITE_ZEROES, TRIM) fails with EIO; flushes still succeed. */
  failWrites(on = true): Promise<PolicyState> {
    return this.change({ op: 'fail_writes', on });
  }

  /** Counting guest commands (reads, writes, flushes) from now, the n-th and every later one fail (n ≥ 1). */
  failAfter(n: number): Promise<PolicyState> {
    return this.change({ op: 'fail_after', n });
  }

  /** Reads and writes overlapping 512-byte sectors [sector, sector + count) fail (count ≥ 1). */
  failRange(sector: number, count: number): Promise<PolicyState> {
    return this.change({ op: 'fail_range', sector, count });
  }

  /** Sleep `ms` before serving each command (0: no delay). */
  delay(ms: number): Promise<PolicyState> {
    return this.change({ op: 'delay', ms });
  }

  clearPolicy(): Promise<PolicyState> {
    return this.change({ op: 'clear' });
  }

  policy(): Promise<PolicyState> {
    return this.ask(() => this.call({ op: 'policy', disk: this.id }));
  }

  /** Drops every write the guest has not flushed; resolves with the bytes lost. */
  powerCut(): Promise<number> {
    return this.ask(() => this.call({ op: 'powerCut', disk: this.id }));
  }

  stats(): Promise<DiskStats> {
    return this.ask(() => this.call({ op: 'stats', disk: this.id }));
  }

  /**
   * Closes the socket (removing it) and the image. Unflushed writes are
   * committed (a clean stop) unless `unflushed: 'drop'`. Idempotent.
   */
  stop(opts: { unflushed?: 'commit' | 'drop' } = {}): Promise<void> {
    this.stopped ??= this.call({ op: 'stop', disk: this.id, unflushed: opts.unflushed ?? 'commit' }).then(() => undefined);
    return this.stopped;
  }

  /** One policy change, as the Lua methods name them. */
  change(change: PolicyChange): Promise<PolicyState> {
    return this.ask(() => this.call({ op: 'setPolicy', disk: this.id, change }));
  }

  private ask<T>(send: () => Promise<T>): Promise<T> {
    if (this.stopped) return Promise.reject(new Error(`disk "${this.name}" (${this.socketPath}) is stopped: start a new one to serve the image again`));
    return send();
  }
}
