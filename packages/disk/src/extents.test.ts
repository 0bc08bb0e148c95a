import { describe, expect, it } from 'vitest';
import { ExtentMap } from './extents.js';

/** The disk as plain bytes, and which of them are held. */
class Model {
  readonly bytes: Buffer;
  readonly held: boolean[];
  constructor(size: number) {
    this.bytes = Buffer.alloc(size, 0xee);
    this.held = new Array<boolean>(size).fill(false);
  }
  put(offset: number, data: Buffer | undefined, length: number): void {
    for (let i = 0; i < length; i++) {
      this.bytes[offset + i] = data ? data[i] : 0;
      this.held[offset + i] = true;
    }
  }
  remove(offset: number, length: number): void {
    for (let i = 0; i < length; i++) this.held[offset + i] = false;
  }
}

/** A small deterministic generator (xorshift32). */
function rng(seed: number): (n: number) => number {
  let x = seed;
  return (n) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
}

describe('ExtentMap', () => {
  it('a later write replaces the part of an earlier one it covers; zeroes hold no buffer', () => {
    const m = new ExtentMap();
    m.put(0, 8, Buffer.from('aaaaaaaa'));
    m.put(2, 3, Buffer.from('bbb'));
    m.put(6, 4); // zeroes, past the first extent's end
    expect(m.entries().map((e) => [e.offset, e.length, e.data?.toString() ?? null])).toEqual([
      [0, 2, 'aa'], [2, 3, 'bbb'], [5, 1, 'a'], [6, 4, null],
    ]);
    expect(m.bytes).toBe(10);
    const buf = Buffer.from('..........xx');
    m.overlay(0, buf);
    expect(buf.toString('latin1')).toBe('aabbba\0\0\0\0xx');
  });

  it('remove splits an extent that spans the removed range', () => {
    const m = new ExtentMap();
    m.put(10, 10, Buffer.from('0123456789'));
    m.remove(13, 4);
    expect(m.entries().map((e) => [e.offset, e.data?.toString()])).toEqual([[10, '012'], [17, '789']]);
    expect(m.bytes).toBe(6);
    m.clear();
    expect([m.bytes, m.entries().length]).toEqual([0, 0]);
  });

  it('agrees with a byte model over random writes, zeroes and removals', () => {
    const size = 4096;
    const next = rng(12345);
    const m = new ExtentMap();
    const model = new Model(size);
    for (let step = 0; step < 3000; step++) {
      const offset = next(size);
      const length = 1 + next(Math.min(300, size - offset));
      const what = next(10);
      if (what < 6) {
        const data = Buffer.alloc(length);
        for (let i = 0; i < length; i++) data[i] = next(256);
        m.put(offset, length, data);
        model.put(offset, data, length);
      } else if (what < 8) {
        m.put(offset, length);
        model.put(offset, undefined, length);
      } else {
        m.remove(offset, length);
        model.remove(offset, length);
      }
    }
    const seen = Buffer.alloc(size, 0xee);
    m.overlay(0, seen);
    const expected = Buffer.from(model.bytes);
    for (let i = 0; i < size; i++) if (!model.held[i]) expected[i] = 0xee;
    expect(seen.equals(expected)).toBe(true);
    expect(m.bytes).toBe(model.held.filter(Boolean).length);
    // Sorted, not overlapping, nothing empty.
    const list = m.entries();
    for (let i = 0; i < list.length; i++) {
      expect(list[i].length).toBeGreaterThan(0);
      if (i > 0) expect(list[i - 1].offset + list[i - 1].length).toBeLessThanOrEqual(list[i].offset);
    }
    // A window in the middle sees the same bytes as the whole.
    const window = Buffer.alloc(700, 0xee);
    m.overlay(1000, window);
    expect(window.equals(seen.subarray(1000, 1700))).toBe(true);
  });
});
