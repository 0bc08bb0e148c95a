// The edit between two texts: applying it gives the new text, and it is the smallest single edit
// (the longest common prefix and suffix), whatever the block comparison skipped over.
import { expect, test } from 'vitest';
import { diffTexts, type TextEdit } from './text-diff.js';

const apply = (text: string, e: TextEdit) => text.slice(0, e.start) + e.text + text.slice(e.end);

/** The reference: one character at a time. */
function naive(a: string, b: string): TextEdit {
  let p = 0;
  while (p < a.length && p < b.length && a[p] === b[p]) p++;
  let s = 0;
  while (s < a.length - p && s < b.length - p && a[a.length - 1 - s] === b[b.length - 1 - s]) s++;
  return { start: p, end: a.length - s, text: b.slice(p, b.length - s) };
}

test('keystrokes, deletions and replacements at the start, the middle and the end', () => {
  expect(diffTexts('abc', 'abXc')).toEqual({ start: 2, end: 2, text: 'X' });
  expect(diffTexts('abc', 'Xabc')).toEqual({ start: 0, end: 0, text: 'X' });
  expect(diffTexts('abc', 'abcX')).toEqual({ start: 3, end: 3, text: 'X' });
  expect(diffTexts('abXc', 'abc')).toEqual({ start: 2, end: 3, text: '' });
  expect(diffTexts('abc', '')).toEqual({ start: 0, end: 3, text: '' });
  expect(diffTexts('', 'abc')).toEqual({ start: 0, end: 0, text: 'abc' });
  expect(diffTexts('abc', 'abc')).toEqual({ start: 3, end: 3, text: '' });
  // A repeated character: the suffix never overlaps the prefix.
  expect(diffTexts('aa', 'aaa')).toEqual({ start: 2, end: 2, text: 'a' });
  expect(diffTexts('aaa', 'a')).toEqual({ start: 1, end: 3, text: '' });
});

test('UTF-16: an emoji replaced by one that shares its high surrogate changes one code unit', () => {
  const e = diffTexts('x = "😀"\n', 'x = "😁"\n');
  expect(e).toEqual({ start: 6, end: 7, text: '😁'.slice(1) });
  expect(apply('x = "😀"\n', e)).toBe('x = "😁"\n');
  expect(diffTexts('a\r\nb', 'a\r\nc\r\nb')).toEqual({ start: 3, end: 3, text: 'c\r\n' });
});

test('long texts: edits on both sides of block boundaries match a character-by-character diff', () => {
  let seed = 11;
  const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
  const base = Array.from({ length: 5000 }, (_, i) => `line ${i % 7}\n`).join('');
  expect(base.length).toBeGreaterThan(8 * 1024);
  // Around multiples of the 1024-character block, from either end.
  const spots = [0, 1, 1023, 1024, 1025, 2048, base.length - 1025, base.length - 1024, base.length - 1, base.length];
  for (let k = 0; k < 200; k++) spots.push(rand(base.length + 1));
  for (const at of spots) {
    const len = rand(3000);
    const end = Math.min(base.length, at + rand(2) * len);
    const insert = ['', 'x', 'line 3\n', 'é😀\r\n'.repeat(rand(400))][rand(4)];
    const after = base.slice(0, at) + insert + base.slice(end);
    const e = diffTexts(base, after);
    expect(apply(base, e)).toBe(after);
    expect(e).toEqual(naive(base, after));
  }
});
