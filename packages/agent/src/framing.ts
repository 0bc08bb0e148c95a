/**
 * Frames: FRAME_MAGIC, u32 big-endian payload length, payload. The decoder
 * reassembles frames from arbitrary chunks and resynchronises on the magic
 * after garbage (e.g. the tail of a frame from a previous session).
 */
import { FRAME_HEADER_BYTES, FRAME_MAGIC, MAX_FRAME_BYTES } from '@provium/types/agent-protocol';

const MAGIC = Buffer.from(FRAME_MAGIC);

export function encodeFrame(payload: Buffer): Buffer {
  if (payload.length > MAX_FRAME_BYTES) {
    throw new RangeError(`agent frame of ${payload.length} bytes exceeds the limit of ${MAX_FRAME_BYTES} bytes`);
  }
  const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  MAGIC.copy(header, 0);
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

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
      const prefix = Math.min(head.length, MAGIC.length);
      if (!head.subarray(0, prefix).equals(MAGIC.subarray(0, prefix))) {
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
        if (MAGIC.subarray(0, all.length - k).equals(all.subarray(k))) {
          next = k;
          break;
        }
      }
    }
    this.garbage += next;
    if (next < all.length) this.unshift(all.subarray(next));
  }

  private peek(n: number): Buffer {
    if (this.chunks.length === 0 || n === 0) return Buffer.alloc(0);
    if (this.chunks[0].length >= n) return this.chunks[0].subarray(0, n);
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
