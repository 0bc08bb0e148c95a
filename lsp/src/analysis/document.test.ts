// Repairing broken segments: each is tried once with the same followers, and again when they change.
import { expect, test } from 'vitest';
import { SourceDoc } from './document.js';
import { runSteps, type Steps } from './steps.js';

function stepsOf(g: Steps<boolean>): { changed: boolean; steps: number } {
  let steps = 0;
  for (;;) {
    const r = g.next();
    if (r.done) return { changed: r.value, steps };
    steps++;
  }
}

test('a broken segment is tried once with the same followers; a follower edited makes it tried again', () => {
  const text = Array.from({ length: 50 }, (_, i) => `if x${i} then\n  y = ${i}\n\nz = ${i}\nw = ${i}\n`).join('');
  const doc = new SourceDoc('file:///r.test.lua', 'test', text, 1);
  const broken = doc.broken.length;
  expect(broken).toBeGreaterThan(10);
  const first = stepsOf(doc.repairSteps());
  expect(first).toEqual({ changed: false, steps: broken });
  expect(stepsOf(doc.repairSteps())).toEqual({ changed: false, steps: 0 });
  // The last `if` closed two statements below it (the edit alone re-parses only the statement it is in).
  runSteps(doc.editSteps(doc.text.length, doc.text.length, 'end\n', 2));
  expect(doc.broken).toHaveLength(broken + 1);
  // Tried again: the three `if`s that have the edited statement among their MAX_MERGE (8) followers.
  expect(stepsOf(doc.repairSteps())).toEqual({ changed: true, steps: 3 });
  const last = doc.segments.at(-1)!;
  expect(doc.text.slice(last.start)).toBe('if x49 then\n  y = 49\n\nz = 49\nw = 49\nend\n');
  expect(last.body).not.toBeNull();
  expect(doc.broken).toHaveLength(broken - 1);
});

test('repair stops when the document is edited between its steps', () => {
  const text = Array.from({ length: 20 }, (_, i) => `if x${i} then\n  y = ${i}\n\nz = ${i}\nw = ${i}\n`).join('');
  const doc = new SourceDoc('file:///s.test.lua', 'test', text, 1);
  const g = doc.repairSteps();
  expect(g.next().done).toBe(false);
  runSteps(doc.editSteps(0, 0, '-- edited\n', 2));
  expect(g.next()).toEqual({ done: true, value: false });
});
