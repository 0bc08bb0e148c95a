/**
 * The NBD wire format (fixed newstyle handshake, simple replies): constants,
 * encoders, and a reader that hands out exact byte counts from a socket.
 * All integers are big-endian.
 */
import type { Socket } from 'node:net';

const NBDMAGIC = Buffer.from('NBDMAGIC');
export const IHAVEOPT = Buffer.from('IHAVEOPT');
const OPTION_REPLY_MAGIC = 0x3e889045565a9n;
const REQUEST_MAGIC = 0x25609513;
const SIMPLE_REPLY_MAGIC = 0x67446698;

/** Handshake flags (server) and client flags: the same two bits. */
export const FLAG_FIXED_NEWSTYLE = 1 << 0;
export const FLAG_NO_ZEROES = 1 << 1;

/** Transmission flags. */
export const FLAG_HAS_FLAGS = 1 << 0;
export const FLAG_SEND_FLUSH = 1 << 2;
export const FLAG_SEND_FUA = 1 << 3;
export const FLAG_SEND_TRIM = 1 << 5;
export const FLAG_SEND_WRITE_ZEROES = 1 << 6;

export const OPT_EXPORT_NAME = 1;
export const OPT_ABORT = 2;
export const OPT_LIST = 3;
export const OPT_INFO = 6;
export const OPT_GO = 7;

export const REP_ACK = 1;
export const REP_SERVER = 2;
export const REP_INFO = 3;
export const REP_ERR_UNSUP = 0x80000001;
export const REP_ERR_INVALID = 0x80000003;
export const REP_ERR_UNKNOWN = 0x80000006;

const INFO_EXPORT = 0;
const INFO_BLOCK_SIZE = 3;

export const CMD_READ = 0;
export const CMD_WRITE = 1;
export const CMD_DISC = 2;
export const CMD_FLUSH = 3;
export const CMD_TRIM = 4;
export const CMD_WRITE_ZEROES = 6;

export const CMD_FLAG_FUA = 1 << 0;
export const CMD_FLAG_NO_HOLE = 1 << 1;

/** Error values of replies (the protocol's own numbers). */
export const EIO = 5;
export const EINVAL = 22;
export const ENOSPC = 28;

/** The largest request payload (the protocol's default maximum block size). */
export const MAX_PAYLOAD = 32 * 1024 * 1024;
export const REQUEST_HEADER = 28;

export function serverGreeting(): Buffer {
  const b = Buffer.alloc(18);
  NBDMAGIC.copy(b, 0);
  IHAVEOPT.copy(b, 8);
  b.writeUInt16BE(FLAG_FIXED_NEWSTYLE | FLAG_NO_ZEROES, 16);
  return b;
}

export function optionReply(option: number, type: number, data: Buffer = Buffer.alloc(0)): Buffer {
  const b = Buffer.alloc(20 + data.length);
  b.writeBigUInt64BE(OPTION_REPLY_MAGIC, 0);
  b.writeUInt32BE(option, 8);
  b.writeUInt32BE(type, 12);
  b.writeUInt32BE(data.length, 16);
  data.copy(b, 20);
  return b;
}

export function infoExport(size: number, flags: number): Buffer {
  const b = Buffer.alloc(12);
  b.writeUInt16BE(INFO_EXPORT, 0);
  b.writeBigUInt64BE(BigInt(size), 2);
  b.writeUInt16BE(flags, 10);
  return b;
}

export function infoBlockSize(min: number, preferred: number, max: number): Buffer {
  const b = Buffer.alloc(14);
  b.writeUInt16BE(INFO_BLOCK_SIZE, 0);
  b.writeUInt32BE(min, 2);
  b.writeUInt32BE(preferred, 6);
  b.writeUInt32BE(max, 10);
  return b;
}

/** The answer to NBD_OPT_EXPORT_NAME: size, transmission flags, and 124 zeroes unless the client opted out. */
export function exportNameReply(size: number, flags: number, zeroes: boolean): Buffer {
  const b = Buffer.alloc(10 + (zeroes ? 124 : 0));
  b.writeBigUInt64BE(BigInt(size), 0);
  b.writeUInt16BE(flags, 8);
  return b;
}

export interface Request {
  flags: number;
  type: number;
  /** Opaque 8 bytes echoed in the reply. */
  handle: Buffer;
  /** Byte offset; beyond Number.MAX_SAFE_INTEGER it is not exact, but then it is out of range anyway. */
  offset: number;
  length: number;
}

/** Parses a 28-byte request header; undefined when its magic is wrong. */
export function parseRequest(b: Buffer): Request | undefined {
  if (b.readUInt32BE(0) !== REQUEST_MAGIC) return undefined;
  return {
    flags: b.readUInt16BE(4),
    type: b.readUInt16BE(6),
    handle: Buffer.from(b.subarray(8, 16)),
    offset: Number(b.readBigUInt64BE(16)),
    length: b.readUInt32BE(24),
  };
}

export function simpleReply(handle: Buffer, error: number): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt32BE(SIMPLE_REPLY_MAGIC, 0);
  b.writeUInt32BE(error, 4);
  handle.copy(b, 8);
  return b;
}

/** Hands out exact byte counts from a socket's stream; `take` fails once the socket has closed. */
export class ByteReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private want: { n: number; resolve: (b: Buffer) => void; reject: (e: Error) => void } | undefined;
  private ended: Error | undefined;

  constructor(socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
      this.serve();
    });
    socket.on('close', () => this.end(new Error('connection closed')));
  }

  take(n: number): Promise<Buffer> {
    if (this.want) return Promise.reject(new Error('ByteReader: one take at a time'));
    return new Promise((resolve, reject) => {
      this.want = { n, resolve, reject };
      this.serve();
    });
  }

  private end(err: Error): void {
    this.ended ??= err;
    this.serve();
  }

  private serve(): void {
    const w = this.want;
    if (!w) return;
    if (this.buffered >= w.n) {
      this.want = undefined;
      w.resolve(this.cut(w.n));
    } else if (this.ended) {
      this.want = undefined;
      w.reject(this.ended);
    }
  }

  private cut(n: number): Buffer {
    if (n === 0) return Buffer.alloc(0);
    const first = this.chunks[0];
    if (first.length >= n) {
      // The common case needs no copy: a view of the chunk (socket chunks are never reused).
      const out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      this.buffered -= n;
      return out;
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const c = this.chunks[0];
      const k = Math.min(c.length, n - filled);
      c.copy(out, filled, 0, k);
      filled += k;
      if (k === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
    }
    this.buffered -= n;
    return out;
  }
}
