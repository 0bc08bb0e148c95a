/**
 * Frames: FRAME_MAGIC, u32 big-endian payload length, payload. The decoder
 * reassembles frames from arbitrary chunks and resynchronises on the magic
 * after garbage (e.g. the tail of a frame from a previous session).
 */
import { FRAME_HEADER_BYTES, FRAME_MAGIC, MAX_FRAME_BYTES } from '@provium/types/agent-protocol';
import { encodeValue } from './codec.js';

const MAGIC = Buffer.from(FRAME_MAGIC);

function checkLength(length: number): void {
  if (length > MAX_FRAME_BYTES) {
    throw new RangeError(`agent frame of ${length} bytes exceeds the limit of ${MAX_FRAME_BYTES} bytes`);
  }
}

export function encodeFrame(payload: Buffer): Buffer {
  checkLength(payload.length);
  const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  MAGIC.copy(header, 0);
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

/** The frame of a message: encoded behind room for the header, which is then written in place (no copy). */
export function encodeMessageFrame(message: unknown): Buffer {
  const frame = encodeValue(message, FRAME_HEADER_BYTES);
  checkLength(frame.length - FRAME_HEADER_BYTES);
  frame.set(MAGIC, 0);
  frame.writeUInt32BE(frame.length - FRAME_HEADER_BYTES, 4);
  return frame;
}

/** Whether the first `n` bytes of `b` (from `at`) are the start of the magic. */
function magicPrefix(b: Buffer, at: number, n: number): boolean {
  for (let i = 0; i < n; i++) if (b[at + i] !== MAGIC[i]) return false;
  return true;
}

const EMPTY = Buffer.alloc(0);

export interface DecodedChunk {
  frames: Buffer[];
  /** Problems found while resynchronising (garbage, oversized frames). */
  problems: string[];
}

export class FrameDecoder {
  private chunks: Buffer[] = [];
  private size = 0;
  private garbage = 0;

  push(chunk: Buffer): DecodedChunk {
    this.chunks.push(chunk);
    this.size += chunk.length;
    const out: DecodedChunk = { frames: [], problems: [] };
    for (;;) {
      const head = this.peek(Math.min(this.size, FRAME_HEADER_BYTES));
      if (head.length === 0) break;
      if (!magicPrefix(head, 0, Math.min(head.length, MAGIC.length))) {
        this.skipGarbage();
        continue;
      }
      if (head.length < FRAME_HEADER_BYTES) break;
      const length = head.readUInt32BE(4);
      if (length > MAX_FRAME_BYTES) {
        this.endGarbage(out);
        out.problems.push(`frame of ${length} bytes exceeds the limit of ${MAX_FRAME_BYTES}; skipped`);
        this.take(1);
        continue;
      }
      if (this.size < FRAME_HEADER_BYTES + length) break;
      this.endGarbage(out);
      out.frames.push(this.take(FRAME_HEADER_BYTES + length).subarray(FRAME_HEADER_BYTES));
    }
    return out;
  }

  private endGarbage(out: DecodedChunk): void {
    if (this.garbage === 0) return;
    out.problems.push(`skipped ${this.garbage} bytes that were not a frame (bad magic)`);
    this.garbage = 0;
  }

  /** Drops bytes up to the next possible frame start (a magic, or a magic prefix at the end). */
  private skipGarbage(): void {
    const all = this.take(this.size);
    let next = all.indexOf(MAGIC, 1);
    if (next < 0) {
      next = all.length;
      for (let k = Math.max(1, all.length - MAGIC.length + 1); k < all.length; k++) {
        if (magicPrefix(all, k, all.length - k)) {
          next = k;
          break;
        }
      }
    }
    this.garbage += next;
    if (next < all.length) this.unshift(all.subarray(next));
  }

  /** The buffered bytes from the start: at least `n` of them (`n` ≤ size), without a copy when one chunk holds them. */
  private peek(n: number): Buffer {
    if (this.chunks.length === 0 || n === 0) return EMPTY;
    if (this.chunks[0].length >= n) return this.chunks[0];
    return Buffer.concat(this.chunks, this.size).subarray(0, n);
  }

  private take(n: number): Buffer {
    const whole = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.size);
    this.chunks = whole.length > n ? [whole.subarray(n)] : [];
    this.size -= n;
    return whole.subarray(0, n);
  }

  private unshift(b: Buffer): void {
    this.chunks.unshift(b);
    this.size += b.length;
  }
}
