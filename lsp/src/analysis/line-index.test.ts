// An updated LineIndex answers as one built from the new text, for edits that add, remove and keep newlines.
import { expect, test } from 'vitest';
import { LineIndex } from './line-index.js';

function linesOf(index: LineIndex, text: string): { line: number; character: number }[] {
  return Array.from({ length: text.length + 1 }, (_, i) => index.position(i));
}

test('random edits keep the index equal to a fresh one', () => {
  let seed = 7;
  const random = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const pieces = ['', 'x', 'ab\n', '\n', '\n\n', 'local y = 1\nz = 2\n', 'é\r\n'];
  let text = 'local a = 1\n\ntest("t", function(t)\n  t:log(a)\nend)\n';
  const index = new LineIndex(text);
  for (let k = 0; k < 300; k++) {
    const start = random(text.length + 1);
    const end = Math.min(text.length, start + random(12));
    const inserted = pieces[random(pieces.length)];
    text = text.slice(0, start) + inserted + text.slice(end);
    index.update(text, start, end - start, inserted.length);
    expect(index.lineCount).toBe(text.split('\n').length);
    expect(linesOf(index, text)).toEqual(linesOf(new LineIndex(text), text));
  }
});

test('a paste of more lines than splice() takes', () => {
  const text = 'a\nb\n';
  const index = new LineIndex(text);
  const paste = 'x\n'.repeat(200_000);
  const after = text.slice(0, 2) + paste + text.slice(2);
  index.update(after, 2, 0, paste.length);
  expect(index.lineCount).toBe(after.split('\n').length);
  expect(index.position(after.length - 1)).toEqual({ line: 200_001, character: 1 });
  expect(index.offset(200_001, 0, after.length)).toBe(after.length - 2);
});
