import { describe, expect, it } from 'vitest';
import { parseDurationText, parseSizeText, toBytes, toSeconds } from './units.js';

describe('durations', () => {
  it.each([
    ['500ms', 0.5], ['5s', 5], ['2m', 120], ['1h', 3600], ['1.5s', 1.5], [' 3s ', 3],
  ])('%s', (text, secs) => expect(parseDurationText(text)).toBeCloseTo(secs));
  it.each(['5', '5fortnights', 's', '-1s', '5 s s', ''])('rejects %j', (text) => expect(parseDurationText(text)).toBeUndefined());
  it('names the bad value', () => expect(() => toSeconds('5fortnights', 'timeout')).toThrow(/timeout: invalid duration "5fortnights"/));
  it('accepts numbers', () => expect(toSeconds(2.5, 'x')).toBe(2.5));
});

describe('sizes', () => {
  it.each([
    ['512M', 512 * 1024 ** 2], ['2G', 2 * 1024 ** 3], ['4096', 4096], ['1K', 1024], ['1MiB', 1024 ** 2], ['8MB', 8 * 1024 ** 2], ['100B', 100], ['1.5G', 1.5 * 1024 ** 3],
  ])('%s', (text, bytes) => expect(parseSizeText(text)).toBe(bytes));
  it.each(['512X', 'M', '2 gigs', ''])('rejects %j', (text) => expect(parseSizeText(text)).toBeUndefined());
  it('names the bad value', () => expect(() => toBytes('lots', 'memory')).toThrow(/memory: invalid size "lots"/));
});
