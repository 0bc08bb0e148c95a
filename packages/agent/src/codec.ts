/**
 * The Provium value encoding (see ValueTag in @provium/types/agent-protocol):
 * nil, booleans, int64 (safe integers on this side), bytes, UTF-8 strings,
 * arrays and maps with string keys. Bytes decode to Buffer views.
 */
import { ValueTag } from '@provium/types/agent-protocol';

export type Value = null | boolean | number | string | Uint8Array | Value[] | { [key: string]: Value };

/** Encodes a JS value; `undefined` map entries are left out. */
export function encodeValue(value: unknown): Buffer {
  const parts: Buffer[] = [];
  encodeInto(value, parts, '');
  return Buffer.concat(parts);
}

function header(tag: number, length?: number): Buffer {
  if (length === undefined) return Buffer.of(tag);
  const b = Buffer.allocUnsafe(5);
  b[0] = tag;
  b.writeUInt32BE(length, 1);
  return b;
}

function encodeInto(value: unknown, parts: Buffer[], where: string): void {
  if (value === null || value === undefined) {
    parts.push(header(ValueTag.nil));
  } else if (typeof value === 'boolean') {
    parts.push(header(value ? ValueTag.true : ValueTag.false));
  } else if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) {
      throw new TypeError(`agent protocol: ${where || 'value'} must be a safe integer, got ${value}`);
    }
    const b = Buffer.allocUnsafe(9);
    b[0] = ValueTag.int;
    b.writeBigInt64BE(BigInt(value), 1);
    parts.push(b);
  } else if (typeof value === 'string') {
    const s = Buffer.from(value, 'utf8');
    parts.push(header(ValueTag.string, s.length), s);
  } else if (value instanceof Uint8Array) {
    parts.push(header(ValueTag.bytes, value.length), Buffer.from(value.buffer, value.byteOffset, value.length));
  } else if (Array.isArray(value)) {
    parts.push(header(ValueTag.array, value.length));
    value.forEach((item, i) => encodeInto(item, parts, `${where}[${i}]`));
  } else if (typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    parts.push(header(ValueTag.map, entries.length));
    for (const [key, v] of entries) {
      const k = Buffer.from(key, 'utf8');
      const len = Buffer.allocUnsafe(4);
      len.writeUInt32BE(k.length);
      parts.push(len, k);
      encodeInto(v, parts, where ? `${where}.${key}` : key);
    }
  } else {
    throw new TypeError(`agent protocol: cannot encode ${where || 'value'} of type ${typeof value}`);
  }
}

const MAX_DEPTH = 32;

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
      const big = buf.readBigInt64BE(r.pos);
      r.pos += 8;
      const n = Number(big);
      if (!Number.isSafeInteger(n)) throw new Error(`agent protocol: integer ${big} is outside the safe range`);
      return n;
    }
    case ValueTag.bytes:
    case ValueTag.string: {
      const n = length(buf, r);
      need(buf, r, n);
      const slice = buf.subarray(r.pos, r.pos + n);
      r.pos += n;
      return tag === ValueTag.string ? slice.toString('utf8') : slice;
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
        const key = buf.toString('utf8', r.pos, r.pos + klen);
        r.pos += klen;
        // plain assignment would let a "__proto__" key replace the prototype
        Object.defineProperty(map, key, { value: decodeAt(buf, r, depth + 1), enumerable: true, writable: true, configurable: true });
      }
      return map;
    }
    default:
      throw new Error(`agent protocol: unknown value tag 0x${tag.toString(16)}`);
  }
}
