// Document sync: a text to segment in slices leaves the event loop free between its steps,
// and the changes that come meanwhile are applied after it, in order.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, expect, test } from 'vitest';
import { STEP_CHARS } from './analysis/steps.js';
import { DocumentSync } from './doc-sync.js';
import { WorkspaceManager } from './workspace-manager.js';

const dir = mkdtempSync(join(tmpdir(), 'provium-doc-sync-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

function setup() {
  const workspace = new WorkspaceManager([dir]);
  const events: string[] = [];
  const sync = new DocumentSync(workspace, {
    opened: (uri) => events.push(`opened ${uri.replace(/^.*\//, '')}`),
    changed: (uri) => events.push(`changed ${uri.replace(/^.*\//, '')}`),
    failed: (_uri, e) => events.push(`failed ${e}`),
  });
  return { workspace, sync, events, uri: (name: string) => pathToFileURL(join(dir, `${name}${n++}.test.lua`)).href };
}

const tests = (count: number, from = 0) => Array.from({ length: count }, (_, i) => `test("t${from + i}", function(t)\n  t:log("${from + i}")\nend)\n`).join('');
const lineCount = (text: string) => text.split('\n').length - 1;

/** Resolves on the next turn of the event loop (after the I/O a turn reads). */
const nextTurn = () => new Promise<string>((r) => setImmediate(() => r('turn')));

test('a long text is segmented over several turns of the event loop; a small one at once', async () => {
  const { workspace, sync, events, uri } = setup();
  const small = uri('small');
  sync.open(small, tests(3), 1);
  expect(workspace.open.get(small)?.segments).toHaveLength(3);
  const big = uri('big');
  const text = tests(4000);
  expect(text.length).toBeGreaterThan(2 * STEP_CHARS);
  sync.open(big, text, 1);
  expect(sync.busy(big)).toBe(true);
  expect(await Promise.race([sync.ready(big).then(() => 'ready'), nextTurn()])).toBe('turn');
  expect(workspace.open.has(big)).toBe(false);
  await sync.ready(big);
  expect(workspace.open.get(big)?.segments).toHaveLength(4000);
  expect(events).toEqual([`opened ${small.replace(/^.*\//, '')}`, `opened ${big.replace(/^.*\//, '')}`]);
});

test('changes that come while a text is segmented wait, and apply in order after it', async () => {
  const { workspace, sync, events, uri } = setup();
  const big = uri('big');
  const text = tests(4000);
  sync.open(big, text, 1);
  const end = { line: lineCount(text), character: 0 };
  sync.change(big, [{ range: { start: end, end }, text: 'local a = 1\n' }], 2);
  sync.change(big, [{ range: { start: end, end }, text: 'local b = 2\n' }], 3);
  await sync.ready(big);
  const doc = workspace.open.get(big)!;
  expect(doc.version).toBe(3);
  expect(doc.text).toBe(`${text}local b = 2\nlocal a = 1\n`);
  expect(doc.segments).toHaveLength(4002);
  const name = big.replace(/^.*\//, '');
  expect(events).toEqual([`changed ${name}`, `opened ${name}`]);
});

test('a paste longer than STEP_CHARS re-segments the document in slices; the edits after it wait for it', async () => {
  const { workspace, sync, events, uri } = setup();
  const name = uri('paste');
  const text = tests(2);
  sync.open(name, text, 1);
  const doc = workspace.open.get(name)!;
  const end = { line: lineCount(text), character: 0 };
  const paste = tests(3000, 2);
  sync.change(name, [{ range: { start: end, end }, text: paste }, { range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, text: '-- pasted\n' }], 2);
  expect(sync.busy(name)).toBe(true);
  expect(doc.text).toBe(text);
  await sync.ready(name);
  expect(doc.text).toBe(`-- pasted\n${text}${paste}`);
  expect(doc.segments.filter((s) => s.body)).toHaveLength(3002);
  expect(events.slice(1)).toEqual([`changed ${name.replace(/^.*\//, '')}`]);
});

test('a document closed while it is segmented is never opened', async () => {
  const { workspace, sync, events, uri } = setup();
  const big = uri('closed');
  sync.open(big, tests(4000), 1);
  const ready = sync.ready(big);
  sync.close(big);
  await ready;
  // More turns than the text has steps: its segmentation is over.
  for (let i = 0; i < 100; i++) await nextTurn();
  expect(workspace.open.has(big)).toBe(false);
  expect(events).toEqual([]);
});

test('a full-text change re-parses only the statements it touches: the other segments are the same objects', async () => {
  const { workspace, sync, uri } = setup();
  const name = uri('full');
  const text = tests(4000);
  sync.open(name, text, 1);
  await sync.ready(name);
  const doc = workspace.open.get(name)!;
  const before = [...doc.segments];
  // `t:log("2000")` becomes `t:log("2000") t:log(1)` in test 2000, sent as the whole new text.
  const edited = text.replace('t:log("2000")\n', 't:log("2000") t:log(1)\n');
  sync.change(name, [{ text: edited }], 2);
  expect(sync.busy(name)).toBe(false);
  expect(doc.text).toBe(edited);
  expect(doc.version).toBe(2);
  expect(doc.segments).toHaveLength(4000);
  const replaced = doc.segments.filter((s, k) => s !== before[k]);
  expect(replaced.map((s) => doc.text.slice(s.start, s.start + s.length))).toEqual(['\ntest("t2000", function(t)\n  t:log("2000") t:log(1)\nend)']);
});

test('a full-text change that rewrites most of a long text is applied in slices, like a large paste', async () => {
  const { workspace, sync, uri } = setup();
  const name = uri('rewrite');
  sync.open(name, tests(2), 1);
  const doc = workspace.open.get(name)!;
  const text = tests(3000, 100);
  sync.change(name, [{ text }], 2);
  expect(sync.busy(name)).toBe(true);
  await sync.ready(name);
  expect(doc.text).toBe(text);
  expect(doc.segments.filter((s) => s.body)).toHaveLength(3000);
});
