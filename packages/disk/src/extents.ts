/**
 * Guest writes held in memory: non-overlapping extents sorted by offset. A
 * later write over an earlier one replaces the covered part, so each byte of
 * the disk is held at most once and `bytes` is what a commit would write.
 */

export interface Extent {
  offset: number;
  length: number;
  /** The bytes; absent for zeroes (a WRITE_ZEROES holds no buffer). */
  data?: Buffer;
}

function piece(e: Extent, from: number, to: number): Extent {
  return { offset: from, length: to - from, data: e.data?.subarray(from - e.offset, to - e.offset) };
}

export class ExtentMap {
  private list: Extent[] = [];
  private held = 0;

  /** Bytes held (each disk byte counted once). */
  get bytes(): number {
    return this.held;
  }

  /** The extents in offset order. */
  entries(): readonly Extent[] {
    return this.list;
  }

  /** Holds `data` (or zeroes when absent) over [offset, offset + length), replacing what was held there. */
  put(offset: number, length: number, data?: Buffer): void {
    if (length === 0) return;
    const at = this.remove(offset, length);
    this.list.splice(at, 0, { offset, length, data });
    this.held += length;
  }

  /** Forgets [offset, offset + length); returns the index where that range now begins. */
  remove(offset: number, length: number): number {
    const end = offset + length;
    const first = this.firstEndingAfter(offset);
    let last = first;
    const kept: Extent[] = [];
    while (last < this.list.length && this.list[last].offset < end) {
      const e = this.list[last];
      const eEnd = e.offset + e.length;
      if (e.offset < offset) kept.push(piece(e, e.offset, offset));
      if (eEnd > end) kept.push(piece(e, end, eEnd));
      this.held -= e.length;
      last++;
    }
    for (const k of kept) this.held += k.length;
    this.list.splice(first, last - first, ...kept);
    return kept.length > 0 && kept[0].offset < offset ? first + 1 : first;
  }

  /** Copies what is held over [offset, offset + buf.length) into `buf` (buf[0] is the byte at `offset`). */
  overlay(offset: number, buf: Buffer): void {
    const end = offset + buf.length;
    for (let i = this.firstEndingAfter(offset); i < this.list.length && this.list[i].offset < end; i++) {
      const e = this.list[i];
      const from = Math.max(e.offset, offset);
      const to = Math.min(e.offset + e.length, end);
      if (e.data) e.data.copy(buf, from - offset, from - e.offset, to - e.offset);
      else buf.fill(0, from - offset, to - offset);
    }
  }

  clear(): void {
    this.list = [];
    this.held = 0;
  }

  /** Index of the first extent whose end lies after `offset` (binary search). */
  private firstEndingAfter(offset: number): number {
    let lo = 0;
    let hi = this.list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const e = this.list[mid];
      if (e.offset + e.length <= offset) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
