import { expect, test } from 'vitest';
import { NEED_MORE, ReadBuffer } from './read-buffer.js';

const text = (r: unknown) => (r instanceof Uint8Array ? Buffer.from(r).toString() : r);

test('formats wait for more data until they can be decided, then for EOF', () => {
  const b = new ReadBuffer();
  b.push(Buffer.from('ab'));
  expect(b.read({ kind: 'l', keepNewline: false })).toBe(NEED_MORE);
  expect(b.read({ kind: 'a' })).toBe(NEED_MORE);
  expect(b.read({ kind: 'count', n: 3 })).toBe(NEED_MORE);
  expect(text(b.read({ kind: 'count', n: 1 }))).toBe('a');
  b.push(Buffer.from('c\nd'));
  expect(text(b.read({ kind: 'l', keepNewline: true }))).toBe('bc\n');
  b.eof = true;
  expect(text(b.read({ kind: 'l', keepNewline: false }))).toBe('d');
  expect(b.read({ kind: 'l', keepNewline: false })).toBe(null);
  expect(text(b.read({ kind: 'a' }))).toBe('');
  expect(b.read({ kind: 'count', n: 0 })).toBe(null);
});

test('numerals: a number split across chunks is read whole', () => {
  const b = new ReadBuffer();
  b.push(Buffer.from('  12'));
  expect(b.read({ kind: 'n' })).toBe(NEED_MORE);
  b.push(Buffer.from('.5e3 0x1F -'));
  expect(text((b.read({ kind: 'n' }) as { numeral: Uint8Array }).numeral)).toBe('12.5e3');
  expect(text((b.read({ kind: 'n' }) as { numeral: Uint8Array }).numeral)).toBe('0x1F');
  expect(b.read({ kind: 'n' })).toBe(NEED_MORE);
  b.eof = true;
  expect(text((b.read({ kind: 'n' }) as { numeral: Uint8Array }).numeral)).toBe('-');
});
