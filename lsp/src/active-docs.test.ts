// Open files not in use (edited or asked about) rest: their trees are dropped once their diagnostics are
// published, and they give the same answers when they are needed again: a request about one, or a
// re-check after a fixture changed. The ACTIVE_DOCS most recently used stay awake.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Diagnostic } from 'vscode-languageserver';
import { afterAll, expect, test } from 'vitest';
import { ACTIVE_DOCS } from './active-docs.js';
import type { Client } from './client.js';
import { ProviumServer } from './server.js';

const dir = mkdtempSync(join(tmpdir(), 'provium-active-docs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const FIXTURE = 'local vm = provium:vm("base", "default"):boot()\nreturn vm:snapshot()\n';
const files: Record<string, string> = { 'provium.toml': '[provium]\nroots = ["tests"]\n', 'tests/fixtures/base.fixture.lua': FIXTURE };
for (const [rel, text] of Object.entries(files)) {
  mkdirSync(dirname(join(dir, rel)), { recursive: true });
  writeFileSync(join(dir, rel), text);
}
const uri = (rel: string) => pathToFileURL(join(dir, rel)).href;
const testText = (i: number) =>
  `local base = provium:vm_fixture("fixtures/base")\ntest("t${i}", function(t)\n  local snap = base:snapshot()\n  snap:size()\n  base:rn("x")\nend)\n`;

/** The server with a client that records what it publishes. */
function start() {
  const published = new Map<string, Diagnostic[]>();
  const waiters: { uri: string; test: (d: Diagnostic[]) => boolean; done: () => void }[] = [];
  const client: Client = {
    publishDiagnostics(u, diagnostics) {
      published.set(u, diagnostics);
      for (const w of waiters.filter((x) => x.uri === u && x.test(diagnostics))) {
        waiters.splice(waiters.indexOf(w), 1);
        w.done();
      }
    },
    showMessage: () => undefined,
    log: () => undefined,
  };
  const server = new ProviumServer(client, { folders: [dir], diagnosticsDelayMs: 0, allowRun: false });
  const published$ = (u: string, test: (d: Diagnostic[]) => boolean = () => true) =>
    new Promise<void>((done) => waiters.push({ uri: u, test, done }));
  return { server, published, published$ };
}

const N = ACTIVE_DOCS + 8;
const uris = Array.from({ length: N }, (_, i) => uri(`tests/t${i}.test.lua`));
const codes = (d: Diagnostic[] | undefined) => (d ?? []).map((x) => x.code).sort();

test('opened files rest once checked; the ones asked about stay awake, and answer as before', async () => {
  const { server, published, published$ } = start();
  const pos = { line: 3, character: 7 };
  const answers = async (u: string) => ({
    completion: await server.completion(u, pos),
    hover: await server.hover(u, { line: 3, character: 3 }),
    symbols: await server.documentSymbols(u),
  });
  const isResting = () => uris.filter((u) => server.workspace.open.get(u)!.resting);
  for (const [i, u] of uris.entries()) {
    const p = published$(u);
    server.didOpen(u, testText(i), 1);
    await p;
  }
  expect(isResting()).toEqual(uris);
  expect(codes(published.get(uris[0]))).toEqual(['unknown-member']);
  // Asked about, each wakes and stays awake while it is among the ACTIVE_DOCS most recently used.
  const before = [];
  for (const u of uris) before.push(await answers(u));
  expect(isResting()).toEqual(uris.slice(0, N - ACTIVE_DOCS));
  expect(before[0].completion.map((c) => c.label)).toContain('size');
  expect(JSON.stringify(before[0].hover)).toContain('Snapshot');
  expect(before[0].symbols.map((s) => s.name)).toEqual(['t0']);
  // The first one rested since it was asked about; it answers the same (the least recently used one rests instead).
  expect(await answers(uris[0])).toEqual(before[0]);
  expect(isResting()).toEqual(uris.slice(1, N - ACTIVE_DOCS + 1));
  // An edit is a use too.
  server.didChange({ textDocument: { uri: uris[1], version: 2 }, contentChanges: [{ text: testText(1) }] });
  expect(isResting()).toEqual(uris.slice(2, N - ACTIVE_DOCS + 2));
  server.dispose();
});

test('a fixture that changes re-checks the resting documents, which rest again after', async () => {
  const { server, published, published$ } = start();
  for (const [i, u] of uris.entries()) {
    const p = published$(u);
    server.didOpen(u, testText(i), 1);
    await p;
  }
  await server.hover(uris[0], { line: 3, character: 3 });
  const awake = () => uris.filter((u) => !server.workspace.open.get(u)!.resting);
  expect(awake()).toEqual([uris[0]]);
  const fixture = uri('tests/fixtures/base.fixture.lua');
  server.didOpen(fixture, FIXTURE, 1);
  const rechecked = uris.map((u) => published$(u, (d) => codes(d).includes('fixture-return')));
  // Full sync, as some editors send it: the fixture no longer returns its snapshot.
  server.didChange({ textDocument: { uri: fixture, version: 2 }, contentChanges: [{ text: FIXTURE.replace('return vm:snapshot()\n', '') }] });
  await Promise.all(rechecked);
  expect(uris.map((u) => codes(published.get(u)))).toEqual(uris.map(() => ['fixture-return', 'unknown-member']));
  // Re-checked, the ones not in use rest again.
  expect(awake()).toEqual([uris[0]]);
  server.dispose();
});
