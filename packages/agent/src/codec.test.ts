import { describe, expect, it } from 'vitest';
import { decodeValue, encodeValue } from './codec.js';

describe('value encoding', () => {
  it('round-trips every kind of value', () => {
    const value = {
      nil: null,
      yes: true,
      no: false,
      small: -1,
      big: Number.MAX_SAFE_INTEGER,
      least: Number.MIN_SAFE_INTEGER,
      halves: [2 ** 32, 2 ** 32 - 1, -(2 ** 32), -(2 ** 31), 2 ** 31],
      long: 'x'.repeat(1000),
      ключ: 'значение',
      text: 'héllo',
      bytes: Buffer.from([0, 255, 1]),
      list: [1, 'two', [3]],
      nested: { deeper: { deepest: 'x' } },
    };
    expect(decodeValue(encodeValue(value))).toEqual(value);
  });

  it('writes integers as big-endian two\'s complement int64', () => {
    for (const n of [0, 1, -1, -2, 2 ** 40 + 7, -(2 ** 40) - 7, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER]) {
      const expected = Buffer.alloc(9);
      expected[0] = 0x03;
      expected.writeBigInt64BE(BigInt(n), 1);
      expect(encodeValue(n)).toEqual(expected);
    }
  });

  it('round-trips strings around the length that is copied in JS, ASCII or not', () => {
    for (const n of [0, 1, 31, 32, 33]) {
      for (const s of ['k'.repeat(n), `${'k'.repeat(Math.max(0, n - 1))}é`, `é${'k'.repeat(n)}`]) {
        expect(decodeValue(encodeValue({ [s]: s }))).toEqual({ [s]: s });
        expect(encodeValue(s).subarray(5).toString('utf8')).toBe(s);
      }
    }
  });

  it('leaves room in front of a value when asked', () => {
    const b = encodeValue({ a: 'x' }, 8);
    expect(decodeValue(b.subarray(8))).toEqual({ a: 'x' });
  });

  it('leaves out undefined map entries', () => {
    expect(decodeValue(encodeValue({ a: 1, b: undefined }))).toEqual({ a: 1 });
  });

  it('refuses numbers that are not safe integers, naming the field', () => {
    expect(() => encodeValue({ args: { offset: 1.5 } })).toThrow('agent protocol: args.offset must be a safe integer, got 1.5');
    expect(() => encodeValue([2 ** 60])).toThrow('[0] must be a safe integer');
  });

  it('refuses integers outside the safe range when decoding', () => {
    const b = Buffer.alloc(9);
    b[0] = 0x03;
    b.writeBigInt64BE(2n ** 62n, 1);
    expect(() => decodeValue(b)).toThrow('integer 4611686018427387904 is outside the safe range');
  });

  it('keeps a "__proto__" key as data', () => {
    const raw = Buffer.concat([Buffer.from([0x07, 0, 0, 0, 1, 0, 0, 0, 9]), Buffer.from('__proto__'), Buffer.from([0x02])]);
    const decoded = decodeValue(raw) as Record<string, unknown>;
    expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype);
    expect(Object.keys(decoded)).toEqual(['__proto__']);
  });

  it('rejects truncated input, unknown tags and trailing bytes', () => {
    expect(() => decodeValue(Buffer.from([0x04, 0, 0, 0, 5, 1]))).toThrow('value truncated');
    expect(() => decodeValue(Buffer.from([0x09]))).toThrow('unknown value tag 0x9');
    expect(() => decodeValue(Buffer.from([0x00, 0x00]))).toThrow('1 trailing bytes after a value');
  });
});
