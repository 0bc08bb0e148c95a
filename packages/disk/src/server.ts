/**
 * One mediated disk: an NBD server on a unix socket serving one raw image
 * through a write-back store, judging every guest command by a fault policy.
 * Commands of a connection are served one at a time, in order (the client
 * may pipeline; replies keep the order of requests).
 */
import { existsSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { basename } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ByteReader, CMD_DISC, CMD_FLAG_FUA, CMD_FLAG_NO_HOLE, CMD_FLUSH, CMD_READ, CMD_TRIM, CMD_WRITE, CMD_WRITE_ZEROES, EINVAL, EIO, ENOSPC, FLAG_HAS_FLAGS,
  FLAG_SEND_FLUSH, FLAG_SEND_FUA, FLAG_SEND_TRIM, FLAG_SEND_WRITE_ZEROES, MAX_PAYLOAD, REQUEST_HEADER, type Request, parseRequest, simpleReply,
} from './codec.js';
import { negotiate } from './handshake.js';
import { FaultPolicy, type IoKind, type PolicyChange, type PolicyState } from './policy.js';
import { WriteBackStore } from './store.js';

/** sun_path holds 108 bytes with the terminating NUL. */
const MAX_SOCKET_PATH = 107;
const TRANSMISSION_FLAGS = FLAG_HAS_FLAGS | FLAG_SEND_FLUSH | FLAG_SEND_FUA | FLAG_SEND_TRIM | FLAG_SEND_WRITE_ZEROES;

export interface DiskServerOptions {
  /** Raw image file; its size is the disk's. */
  image: string;
  /** Unix socket to listen on; must not exist yet. */
  socketPath: string;
  /** NBD export name. Default: the image's file name. */
  name?: string;
}

export interface DiskStats {
  /** Guest commands received (every kind but disconnect), failed ones included. */
  commands: number;
  reads: number;
  /** WRITE, WRITE_ZEROES and TRIM. */
  writes: number;
  flushes: number;
  /** Commands answered with an error (policy or host). */
  failed: number;
  bytes_read: number;
  /** Bytes of successful WRITE and WRITE_ZEROES commands. */
  bytes_written: number;
  unflushed_bytes: number;
  /** Open client connections. */
  connections: number;
  /** The last failure of the image file itself (not of the policy), naming it; absent if none. */
  last_host_error?: string;
}

export class DiskServer {
  private readonly policy = new FaultPolicy();
  private readonly sockets = new Set<Socket>();
  private readonly counts = { commands: 0, reads: 0, writes: 0, flushes: 0, failed: 0, bytes_read: 0, bytes_written: 0 };
  private hostError: string | undefined;
  private stopping: Promise<void> | undefined;

  private constructor(
    private readonly server: Server,
    private readonly store: WriteBackStore,
    readonly socketPath: string,
    readonly name: string,
  ) {
    server.on('connection', (socket) => this.serve(socket));
  }

  /** `disk "<name>" (<socket>)`: how errors name this disk. */
  get label(): string {
    return `disk "${this.name}" (${this.socketPath})`;
  }

  get size(): number {
    return this.store.size;
  }

  static async start(opts: DiskServerOptions): Promise<DiskServer> {
    const name = opts.name ?? basename(opts.image);
    const where = `disk "${name}" (${opts.socketPath})`;
    if (Buffer.byteLength(opts.socketPath) > MAX_SOCKET_PATH) {
      throw new Error(`${where}: socket path is ${Buffer.byteLength(opts.socketPath)} bytes, more than a unix socket takes (${MAX_SOCKET_PATH}): choose a shorter path`);
    }
    if (existsSync(opts.socketPath)) throw new Error(`${where}: ${opts.socketPath} already exists: remove it or choose another socket path`);
    const store = await WriteBackStore.open(opts.image);
    const server = createServer();
    const disk = new DiskServer(server, store, opts.socketPath, name);
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(opts.socketPath, () => resolve());
      });
    } catch (err) {
      await store.close('drop');
      throw new Error(`${where}: cannot listen on the socket (${(err as Error).message}): check that its directory exists and is writable`);
    }
    return disk;
  }

  setPolicy(change: PolicyChange): PolicyState {
    try {
      return this.policy.apply(change);
    } catch (err) {
      throw new Error(`${this.label}: ${(err as Error).message}`);
    }
  }

  getPolicy(): PolicyState {
    return this.policy.snapshot();
  }

  /** Drops every write not yet flushed; returns the bytes lost. */
  powerCut(): Promise<number> {
    return this.store.powerCut();
  }

  stats(): DiskStats {
    return {
      ...this.counts,
      unflushed_bytes: this.store.unflushed,
      connections: this.sockets.size,
      ...(this.hostError === undefined ? {} : { last_host_error: this.hostError }),
    };
  }

  /**
   * Closes the connections and the socket (removing its file), then commits
   * the unflushed writes to the image (a clean stop) or drops them. Idempotent.
   */
  stop(unflushed: 'commit' | 'drop' = 'commit'): Promise<void> {
    this.stopping ??= (async () => {
      for (const s of this.sockets) s.destroy();
      await new Promise<void>((resolve) => this.server.close(() => resolve()));
      rmSync(this.socketPath, { force: true });
      try {
        await this.store.close(unflushed);
      } catch (err) {
        throw new Error(`${this.label}: stopping, the unflushed writes could not be committed to image ${this.store.path} (${(err as Error).message}); they are lost`);
      }
    })();
    return this.stopping;
  }

  private serve(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('error', () => {}); // a client that vanishes ends its loop through 'close'
    socket.on('close', () => this.sockets.delete(socket));
    const reader = new ByteReader(socket);
    void (async () => {
      if (!(await negotiate(socket, reader, { name: this.name, size: this.store.size, flags: TRANSMISSION_FLAGS }))) return;
      for (;;) {
        const req = parseRequest(await reader.take(REQUEST_HEADER));
        if (!req || req.type === CMD_DISC) return;
        // A payload too large to hold is a broken client: hang up rather than buffer it.
        if (req.type === CMD_WRITE && req.length > MAX_PAYLOAD) return;
        const data = req.type === CMD_WRITE ? await reader.take(req.length) : undefined;
        const { error, payload } = await this.execute(req, data);
        if (error !== 0) this.counts.failed++;
        socket.write(simpleReply(req.handle, error));
        if (payload) socket.write(payload);
      }
    })()
      .catch(() => {}) // the connection closed (or the disk stopped) mid-request
      .finally(() => socket.end());
  }

  private async execute(req: Request, data: Buffer | undefined): Promise<{ error: number; payload?: Buffer }> {
    this.counts.commands++;
    const kind = kindOf(req.type);
    if (!kind) return { error: EINVAL };
    if (kind === 'read') this.counts.reads++;
    else if (kind === 'write') this.counts.writes++;
    else this.counts.flushes++;
    const allowed = req.type === CMD_WRITE_ZEROES ? CMD_FLAG_FUA | CMD_FLAG_NO_HOLE : CMD_FLAG_FUA;
    if ((req.flags & ~allowed) !== 0) return { error: EINVAL };
    if (kind !== 'flush' && req.offset + req.length > this.store.size) return { error: kind === 'read' ? EINVAL : ENOSPC };
    if (kind === 'read' && req.length > MAX_PAYLOAD) return { error: EINVAL };
    if (this.policy.delayMs > 0) await sleep(this.policy.delayMs);
    if (this.policy.fails(kind, req.offset, req.length)) return { error: EIO };
    const fua = (req.flags & CMD_FLAG_FUA) !== 0;
    try {
      switch (req.type) {
        case CMD_READ: {
          const payload = await this.store.read(req.offset, req.length);
          this.counts.bytes_read += req.length;
          return { error: 0, payload };
        }
        case CMD_WRITE:
        case CMD_WRITE_ZEROES:
          await this.store.write(req.offset, req.length, data, fua);
          this.counts.bytes_written += req.length;
          return { error: 0 };
        case CMD_TRIM:
          return { error: 0 }; // a hint the protocol lets a server ignore
        default:
          await this.store.flush();
          return { error: 0 };
      }
    } catch (err) {
      this.hostError = `${this.label}: image ${this.store.path}: ${(err as Error).message}`;
      return { error: EIO };
    }
  }
}

function kindOf(type: number): IoKind | undefined {
  switch (type) {
    case CMD_READ:
      return 'read';
    case CMD_WRITE:
    case CMD_WRITE_ZEROES:
    case CMD_TRIM:
      return 'write';
    case CMD_FLUSH:
      return 'flush';
    default:
      return undefined;
  }
}
