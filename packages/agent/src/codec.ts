/**
 * The Provium value encoding (see ValueTag in @provium/types/agent-protocol):
 * nil, booleans, int64 (safe integers on this side), bytes, UTF-8 strings,
 * arrays and maps with string keys. Bytes decode to Buffer views.
 */
import { ValueTag } from '@provium/types/agent-protocol';

export type Value = null | boolean | number | string | Uint8Array | Value[] | { [key: string]: Value };

/**
 * Encodes a JS value; `undefined` map entries are left out. `reserve` bytes
 * are left free in front of it (a frame's header, written in place).
 */
export function encodeValue(value: unknown, reserve = 0): Buffer {
  const w = new Writer(reserve);
  encodeInto(value, w, '');
  return w.buf.subarray(0, w.pos);
}

/**
 * Strings up to this length that are ASCII are copied byte by byte in JS, both
 * ways: map keys and short values (`t`, `op`, `status`) are most of a message,
 * and a call into Buffer's native code costs more than such a copy.
 */
const SHORT = 32;

/** One growing buffer for a whole value (a request is encoded on every op). */
class Writer {
  buf = Buffer.allocUnsafe(256);

  constructor(public pos: number) {}

  room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(bigger, 0, 0, this.pos);
    this.buf = bigger;
  }

  tag(tag: number, length?: number): void {
    this.room(5);
    this.buf[this.pos++] = tag;
    if (length !== undefined) this.u32(length);
  }

  u32(n: number): void {
    this.buf.writeUInt32BE(n, this.pos);
    this.pos += 4;
  }

  /** A string with its u32 length in front. */
  text(s: string): void {
    if (s.length <= SHORT && this.ascii(s)) return;
    const n = Buffer.byteLength(s, 'utf8');
    this.room(4 + n);
    this.u32(n);
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }

  /** Writes `s` with its length if it is all ASCII; false (nothing written) if not. */
  private ascii(s: string): boolean {
    const n = s.length;
    this.room(4 + n);
    const at = this.pos + 4;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c > 0x7f) return false;
      this.buf[at + i] = c;
    }
    this.u32(n);
    this.pos += n;
    return true;
  }
}

function encodeInto(value: unknown, w: Writer, where: string): void {
  if (value === null || value === undefined) {
    w.tag(ValueTag.nil);
  } else if (typeof value === 'boolean') {
    w.tag(value ? ValueTag.true : ValueTag.false);
  } else if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) {
      throw new TypeError(`agent protocol: ${where || 'value'} must be a safe integer, got ${value}`);
    }
    w.tag(ValueTag.int);
    w.room(8);
    // a safe integer splits exactly into a signed high and an unsigned low half
    const hi = Math.floor(value / 2 ** 32);
    w.buf.writeInt32BE(hi, w.pos);
    w.buf.writeUInt32BE(value - hi * 2 ** 32, w.pos + 4);
    w.pos += 8;
  } else if (typeof value === 'string') {
    w.tag(ValueTag.string);
    w.text(value);
  } else if (value instanceof Uint8Array) {
    w.tag(ValueTag.bytes, value.length);
    w.room(value.length);
    w.buf.set(value, w.pos);
    w.pos += value.length;
  } else if (Array.isArray(value)) {
    w.tag(ValueTag.array, value.length);
    value.forEach((item, i) => encodeInto(item, w, `${where}[${i}]`));
  } else if (typeof value === 'object') {
    const map = value as Record<string, unknown>;
    w.tag(ValueTag.map, 0);
    const countAt = w.pos - 4;
    let count = 0;
    for (const key in map) {
      if (!Object.hasOwn(map, key) || map[key] === undefined) continue;
      w.text(key);
      encodeInto(map[key], w, where ? `${where}.${key}` : key);
      count++;
    }
    w.buf.writeUInt32BE(count, countAt);
  } else {
    throw new TypeError(`agent protocol: cannot encode ${where || 'value'} of type ${typeof value}`);
  }
}

const MAX_DEPTH = 32;

/** Bytes [from, to) of `buf` as text: short ASCII in JS, the rest through Buffer. */
function text(buf: Buffer, from: number, to: number): string {
  if (to - from <= SHORT) {
    let s = '';
    for (let i = from; i < to; i++) {
      const c = buf[i];
      if (c > 0x7f) return buf.toString('utf8', from, to);
      s += String.fromCharCode(c);
    }
    return s;
  }
  return buf.toString('utf8', from, to);
}

/** Decodes exactly one value spanning `buf`; throws on malformed input. */
export function decodeValue(buf: Buffer): Value {
  const reader = { pos: 0 };
  const value = decodeAt(buf, reader, 0);
  if (reader.pos !== buf.length) throw new Error(`agent protocol: ${buf.length - reader.pos} trailing bytes after a value`);
  return value;
}

function need(buf: Buffer, r: { pos: number }, n: number): void {
  if (buf.length - r.pos < n) throw new Error('agent protocol: value truncated');
}

function length(buf: Buffer, r: { pos: number }): number {
  need(buf, r, 4);
  const n = buf.readUInt32BE(r.pos);
  r.pos += 4;
  return n;
}

function decodeAt(buf: Buffer, r: { pos: number }, depth: number): Value {
  if (depth > MAX_DEPTH) throw new Error('agent protocol: values nested too deeply');
  need(buf, r, 1);
  const tag = buf[r.pos++];
  switch (tag) {
    case ValueTag.nil:
      return null;
    case ValueTag.false:
      return false;
    case ValueTag.true:
      return true;
    case ValueTag.int: {
      need(buf, r, 8);
      const n = buf.readInt32BE(r.pos) * 2 ** 32 + buf.readUInt32BE(r.pos + 4);
      if (!Number.isSafeInteger(n)) throw new Error(`agent protocol: integer ${buf.readBigInt64BE(r.pos)} is outside the safe range`);
      r.pos += 8;
      return n;
    }
    case ValueTag.bytes:
    case ValueTag.string: {
      const n = length(buf, r);
      need(buf, r, n);
      const from = r.pos;
      r.pos += n;
      return tag === ValueTag.string ? text(buf, from, r.pos) : buf.subarray(from, r.pos);
    }
    case ValueTag.array: {
      const n = length(buf, r);
      need(buf, r, n); // each item takes at least one byte
      const items: Value[] = [];
      for (let i = 0; i < n; i++) items.push(decodeAt(buf, r, depth + 1));
      return items;
    }
    case ValueTag.map: {
      const n = length(buf, r);
      need(buf, r, n * 5);
      const map: { [key: string]: Value } = {};
      for (let i = 0; i < n; i++) {
        const klen = length(buf, r);
        need(buf, r, klen);
        const key = text(buf, r.pos, r.pos + klen);
        r.pos += klen;
        const value = decodeAt(buf, r, depth + 1);
        // plain assignment would let a "__proto__" key replace the prototype
        if (key === '__proto__') Object.defineProperty(map, key, { value, enumerable: true, writable: true, configurable: true });
        else map[key] = value;
      }
      return map;
    }
    default:
      throw new Error(`agent protocol: unknown value tag 0x${tag.toString(16)}`);
  }
}
