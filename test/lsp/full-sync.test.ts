// Full document sync: a client that sends the whole text on every change (contentChanges: [{ text }])
// gets exactly what a client sending the same edits as ranges gets — the same diagnostics, completions
// and hovers after every edit. The server turns a full text into the edit between the two texts and
// re-analyses only the statements it touches; these sequences are built to reach the cases where that
// could go wrong: edits at the very start and end, whole functions deleted, multi-line pastes, code that
// is broken mid-way, CRLF line ends, and non-ASCII text (LSP columns count UTF-16 code units).
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { Position, Range } from 'vscode-languageserver-protocol';
import { LspTestClient, makeProject } from './helpers/lsp-client.js';
import { SAMPLE_FILES } from './helpers/sample-project.js';

const project = makeProject(SAMPLE_FILES);
let c: LspTestClient;
let n = 0;
beforeAll(async () => {
  c = await LspTestClient.start(project.dir);
});
afterAll(async () => {
  await c.shutdown();
  project.cleanup();
});

interface Edit { range: Range; text: string }

/** Offset of an LSP position in `text`; a position past a line's end is a mistake in the sequence. */
function offsetOf(text: string, p: Position): number {
  const lines = text.split('\n');
  const line = lines[p.line]?.replace(/\r$/, '');
  if (line === undefined || p.character > line.length) throw new Error(`no position ${JSON.stringify(p)} in ${JSON.stringify(text)}`);
  return lines.slice(0, p.line).reduce((n, l) => n + l.length + 1, 0) + p.character;
}

function applyEdit(text: string, e: Edit): string {
  return text.slice(0, offsetOf(text, e.range.start)) + e.text + text.slice(offsetOf(text, e.range.end));
}

const at = (line: number, character: number): Position => ({ line, character });
const insert = (line: number, character: number, text: string): Edit => ({ range: { start: at(line, character), end: at(line, character) }, text });
const replace = (from: Position, to: Position, text: string): Edit => ({ range: { start: from, end: to }, text });

/** Where to ask: the end of every line, and every name's first character and its middle. */
function probes(text: string): Position[] {
  const out: Position[] = [];
  text.split('\n').forEach((line, l) => {
    out.push(at(l, line.replace(/\r$/, '').length));
    for (const m of line.matchAll(/[A-Za-z_]\w*/g)) out.push(at(l, m.index), at(l, m.index + (m[0].length >> 1)));
  });
  return out;
}

/** Everything a client sees of a document (its uri spelled as the incremental one's, to compare). */
async function observe(uri: string, text: string, as: string) {
  const diagnostics = await c.currentDiagnostics(uri);
  const at: { position: Position; completion: unknown[]; hover: unknown; signature: unknown }[] = [];
  for (const position of probes(text)) {
    at.push({ position, completion: await c.completion(uri, position), hover: await c.hover(uri, position), signature: await c.signatureHelp(uri, position) });
  }
  const seen = { diagnostics, at, symbols: await c.documentSymbols(uri), lenses: await c.codeLens(uri) };
  return JSON.parse(JSON.stringify(seen).split(uri).join(as)) as typeof seen;
}

/**
 * Opens `initial` twice, sends `edits` one notification each, to one document as ranges and to the other
 * as whole texts, and compares what the two give after every edit.
 */
async function sameUnderBothSyncs(initial: string, edits: Edit[]): Promise<void> {
  const k = n++;
  const inc = await c.openDocument(project.uri(`tests/inc${k}.test.lua`), initial);
  const full = await c.openDocument(project.uri(`tests/full${k}.test.lua`), initial);
  let text = initial;
  const answered = { diagnostics: 0, completions: 0, hovers: 0 };
  expect(await observe(full, text, inc)).toEqual(await observe(inc, text, inc));
  for (const [i, e] of edits.entries()) {
    text = applyEdit(text, e);
    await c.change(inc, [e]);
    await c.change(full, text);
    const want = await observe(inc, text, inc);
    expect(await observe(full, text, inc), `after edit ${i}: ${JSON.stringify(e)}`).toEqual(want);
    answered.diagnostics += want.diagnostics.length;
    answered.completions += want.at.filter((a) => a.completion.length).length;
    answered.hovers += want.at.filter((a) => a.hover).length;
  }
  // What was compared was not all empty.
  expect(Object.values(answered).every((count) => count > 0), JSON.stringify(answered)).toBe(true);
  await c.close(inc);
  await c.close(full);
}

const FILE = [
  'local vm = provium:vm("a", "default"):boot()',
  'local function mk(name)',
  '  return provium:vm(name, "default")',
  'end',
  '',
  'test("one", function(t)',
  '  local snap = vm:snapshot()',
  '  local r = vm:run("ls")',
  '  t:assert_eq(r.exit_code, 0)',
  'end)',
  '',
  'test("two", function(t)',
  '  mk("b"):boot()',
  '  t:log(snap)',
  'end)',
  '',
].join('\n');

test('edits at the very start and the very end of the file, and a keystroke-by-keystroke `snap:`', async () => {
  const typed = [...'snap:'].map((ch, i) => insert(7, 2 + i, ch));
  await sameUnderBothSyncs(FILE, [
    insert(0, 0, '-- header\n'),
    replace(at(0, 0), at(1, 0), ''),
    insert(0, 0, 'local early = vm\n'),
    insert(16, 0, 'test("three", function(t)\n  vm:'),
    insert(17, 5, 'run("x")\nend)\n'),
    insert(7, 0, '  \n'),
    ...typed,
    replace(at(7, 6), at(7, 7), ''),
    replace(at(7, 0), at(8, 0), ''),
  ]);
});

test('a whole function deleted, then pasted back elsewhere; a test body replaced by a multi-line paste', async () => {
  const fn = 'local function mk(name)\n  return provium:vm(name, "default")\nend\n';
  await sameUnderBothSyncs(FILE, [
    replace(at(1, 0), at(4, 0), ''),
    insert(8, 0, fn),
    replace(at(12, 0), at(13, 0), '  local a = mk("c")\n  a:boot()\n  local s = a:snapshot()\n  s:\n  t:assert(true)\n'),
    replace(at(15, 0), at(16, 0), '  s:size()\n'),
    // Everything replaced: an incremental client sends one range over the whole text.
    replace(at(0, 0), at(19, 0), 'local x = provium:vm("z", "fast")\nx:run(42)\n'),
  ]);
});

test('a duplicated line (the diff may place the copy above or below the original: the result is the same)', async () => {
  await sameUnderBothSyncs(FILE, [
    insert(8, 0, '  local r = vm:run("ls")\n'),
    insert(7, 0, '  local r = vm:run("ls")\n'),
    replace(at(7, 0), at(9, 0), ''),
    insert(10, 0, 'end)\n'),
    replace(at(10, 0), at(11, 0), ''),
  ]);
});

test('CRLF line ends', async () => {
  const crlf = FILE.split('\n').join('\r\n');
  await sameUnderBothSyncs(crlf, [
    insert(8, 0, '  local st = vm:stat("/")\r\n  st.\r\n'),
    replace(at(9, 4), at(9, 5), '.size\r\n  vm:'),
    replace(at(10, 0), at(11, 0), ''),
    insert(0, 0, '\r\n'),
    replace(at(16, 5), at(17, 0), '\r\n\r\n'),
  ]);
});

test('non-ASCII text: positions after accents and emoji are UTF-16 columns', async () => {
  const text = [
    'local vm = provium:vm("é😀", "default")',
    'test("naïve 😀 test", function(t)',
    '  t:log("😀😀") local snap = vm:snapshot()',
    '  t:log("ü")',
    'end)',
    '',
  ].join('\n');
  // Line 2: `  t:log("😀😀") ` is 16 UTF-16 code units (each emoji is two).
  await sameUnderBothSyncs(text, [
    insert(2, 16, 'snap:size() '),
    insert(3, 12, ' snap:'),
    replace(at(3, 12), at(3, 18), ''),
    // 😀 (U+1F600) to 😁 (U+1F601): the two share their high surrogate, so the edit is one code unit.
    replace(at(1, 12), at(1, 14), '😁'),
    replace(at(2, 9), at(2, 11), 'ñ'),
    insert(4, 4, '\ntest("∑", function(t) vm:run(1) end)'),
  ]);
});
