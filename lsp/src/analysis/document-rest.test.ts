// A resting document: its segments are dropped and rebuilt from its text, the same ones it had.
import { expect, test } from 'vitest';
import { SourceDoc } from './document.js';
import { runSteps, STEP_CHARS } from './steps.js';

const shape = (doc: SourceDoc) => doc.segments.map((s) => [s.start, s.length, s.body?.map((b) => [b.type, s.base + b.from, s.base + b.to])]);
const tests = (n: number) => Array.from({ length: n }, (_, i) => `test("t${i}", function(t)\n  t:log("${i}")\nend)\n`).join('');

test('a document rests and wakes with the same segments and statements; an edit wakes it first', () => {
  const doc = new SourceDoc('file:///a.test.lua', 'test', `local vm = provium:vm("a", "default")\n${tests(5)}`, 1);
  const before = shape(doc);
  const epochs = [doc.editEpoch, doc.declEpoch];
  expect(doc.rest()).toBe(true);
  expect(doc.resting).toBe(true);
  expect(shape(doc)).toEqual(before);
  expect(doc.resting).toBe(false);
  // Resting changes nothing the analyses key on.
  expect([doc.editEpoch, doc.declEpoch]).toEqual(epochs);
  doc.rest();
  runSteps(doc.editSteps(0, 0, '-- top\n', 2));
  expect(doc.text.startsWith('-- top\nlocal vm')).toBe(true);
  expect(doc.segments).toHaveLength(6);
});

test('edits can leave two statements that a whole parse reads as one: the document wakes with both', () => {
  const doc = new SourceDoc('file:///b.test.lua', 'test', 'local x = f\nprint(1)\n', 1);
  runSteps(doc.editSteps(12, 20, '(g)()', 2));
  expect(doc.text).toBe('local x = f\n(g)()\n');
  const before = shape(doc);
  expect(before).toHaveLength(2);
  expect(new SourceDoc('file:///b2.test.lua', 'test', doc.text, 1).segments).toHaveLength(1);
  doc.rest();
  expect(shape(doc)).toEqual(before);
});

test('a document with a syntax error, or too long to re-parse in one step, does not rest', () => {
  const broken = new SourceDoc('file:///c.test.lua', 'test', `${tests(2)}test("x", function(t)\n  vm:\nend)\n`, 1);
  expect(broken.broken).toHaveLength(1);
  expect(broken.rest()).toBe(false);
  expect(broken.resting).toBe(false);
  const long = new SourceDoc('file:///d.test.lua', 'test', tests(3000), 1);
  expect(long.text.length).toBeGreaterThan(STEP_CHARS);
  expect(long.rest()).toBe(false);
});
