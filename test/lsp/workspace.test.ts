// Document sync and the workspace over JSON-RPC: full and incremental changes, files created and deleted
// on disk (workspace/didChangeWatchedFiles), the roots of provium.toml, and static analysis only.
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { API } from '@provium/types';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { cursor, LspTestClient, makeProject, positionOf } from './helpers/lsp-client.js';
import { SAMPLE_FILES } from './helpers/sample-project.js';

const project = makeProject({
  ...SAMPLE_FILES,
  'provium.toml': '[provium]\nroots = ["e2e", "tests"]\n\n[profiles.fast]\nkernel = "build/bzImage"\n',
  'e2e/fixtures/web.fixture.lua': 'local vm = provium:vm("web", "default"):boot()\nreturn vm:snapshot()\n',
  // Would leave a marker behind if anything ran it.
  'tests/helpers/sideeffect.lua': 'local f = io.open(os.getenv("MARKER"), "w")\nf:write("ran")\nf:close()\nos.execute("touch " .. os.getenv("MARKER"))\nreturn {}\n',
});
const MARKER = join(project.dir, 'ran-user-code');
let c: LspTestClient;
let n = 0;
beforeAll(async () => {
  process.env.MARKER = MARKER;
  c = await LspTestClient.start(project.dir);
});
afterAll(async () => {
  await c.shutdown();
  project.cleanup();
});

const methods = (cls: string) => API.classes.find((k) => k.name === cls)!.methods.map((m) => m.name).sort();
const codes = (ds: { code?: number | string }[]) => ds.map((d) => d.code);

test('full sync: a change without a range replaces the whole text', async () => {
  const uri = await c.openDocument(project.uri('tests/full.test.lua'), 'local vm = provium:vm("a", "default")\nvm:rn("ls")\n');
  expect(codes(await c.currentDiagnostics(uri))).toEqual(['unknown-member']);
  const { text, pos } = cursor('local s = provium:snapshot()\ns:|');
  await c.change(uri, text);
  expect(codes(await c.currentDiagnostics(uri))).toEqual(['syntax']);
  expect((await c.completion(uri, pos)).map((i) => i.label).sort()).toEqual(methods('LabSnapshot'));
});

test('incremental sync: several ranged changes in one notification apply in order', async () => {
  const text = 'local vm = provium:vm("a", "default")\ntest("x", function(t)\n  local r = vm:run("ls")\nend)\n';
  const uri = await c.openDocument(project.uri('tests/incr.test.lua'), text);
  expect(await c.currentDiagnostics(uri)).toEqual([]);
  const endOfR = positionOf(text, 'vm:run("ls")', 'vm:run("ls")'.length - 2); // after the first edit
  // Change the argument (the line gets 2 characters shorter), then add a line below the first edit (positions of the second are after the first).
  await c.change(uri, [
    { range: { start: positionOf(text, '"ls"'), end: positionOf(text, '"ls"', 4) }, text: '42' },
    { range: { start: endOfR, end: endOfR }, text: '\n  print(r.exit_cod)' },
  ]);
  const diags = await c.currentDiagnostics(uri);
  expect(diags.map((d) => [d.range.start.line, d.message])).toEqual([
    [2, 'argument 1 (cmd) of VM:run() must be a string, got the number 42: write it in quotes ("42")'],
    [3, "RunResult has no field 'exit_cod': did you mean 'exit_code'?"],
  ]);
});

test('fixtures are found under every root of provium.toml', async () => {
  const { text, pos } = cursor('local vm = provium:vm_fixture("|")\n');
  const uri = await c.openDocument(project.uri(`tests/roots${n++}.test.lua`), text);
  const labels = (await c.completion(uri, pos)).map((i) => i.label);
  expect(labels).toEqual(expect.arrayContaining(['fixtures/web', 'fixtures/base']));
});

test('a fixture created, then deleted on disk (didChangeWatchedFiles) is known, then unknown again', async () => {
  const text = 'local vm = provium:vm_fixture("fixtures/later")\n';
  const uri = await c.openDocument(project.uri('tests/watch.test.lua'), text);
  expect(codes(await c.currentDiagnostics(uri))).toEqual(['unknown-fixture']);
  const fixture = project.uri('tests/fixtures/later.fixture.lua');
  project.write('tests/fixtures/later.fixture.lua', 'local vm = provium:vm("l", "default")\nreturn vm:snapshot()\n');
  const known = c.diagnosticsFor(uri, (p) => p.diagnostics.length === 0);
  await c.notify('workspace/didChangeWatchedFiles', { changes: [{ uri: fixture, type: 1 }] });
  expect(await known).toEqual([]);
  rmSync(join(project.dir, 'tests/fixtures/later.fixture.lua'));
  const unknown = c.diagnosticsFor(uri, (p) => p.diagnostics.length === 1);
  await c.notify('workspace/didChangeWatchedFiles', { changes: [{ uri: fixture, type: 3 }] });
  expect(codes(await unknown)).toEqual(['unknown-fixture']);
});

test('editing an open fixture re-checks the open files that use it', async () => {
  const uri = await c.openDocument(project.uri('tests/uses-web.test.lua'), 'local vm = provium:lab_fixture("fixtures/web")\n');
  expect(codes(await c.currentDiagnostics(uri))).toEqual(['wrong-fixture-kind']);
  const fixture = await c.openDocument(project.uri('e2e/fixtures/web.fixture.lua'));
  const fixed = c.diagnosticsFor(uri, (p) => p.diagnostics.length === 0);
  await c.change(fixture, 'local vm = provium:vm("web", "default"):boot()\nreturn provium:snapshot()\n');
  expect(await fixed).toEqual([]);
});

test('lab:snapshot() of a lab fixture is a LabSnapshot', async () => {
  const { text, pos } = cursor('local lab = provium:lab_fixture("fixtures/cluster")\nlab:snapshot():|');
  const uri = await c.openDocument(project.uri(`tests/lab${n++}.test.lua`), text);
  expect((await c.completion(uri, pos)).map((i) => i.label).sort()).toEqual(methods('LabSnapshot'));
});

test('completion items carry the signature and the doc from the schema', async () => {
  const { text, pos } = cursor('local vm = provium:vm("a", "default")\nvm:|');
  const uri = await c.openDocument(project.uri(`tests/doc${n++}.test.lua`), text);
  const run = (await c.completion(uri, pos)).find((i) => i.label === 'run')!;
  const spec = API.classes.find((k) => k.name === 'VM')!.methods.find((m) => m.name === 'run')!;
  expect(run.detail).toBe('VM:run(cmd: string, opts?: RunOpts|string[]): RunResult');
  expect(run.documentation).toMatchObject({ kind: 'markdown', value: expect.stringContaining(spec.doc) });
});

test('static analysis only: requiring a helper that writes files runs nothing', async () => {
  const { text, pos } = cursor('local fx = require("helpers.sideeffect")\nlocal x = fx|');
  const uri = await c.openDocument(project.uri(`tests/static${n++}.test.lua`), text);
  await c.currentDiagnostics(uri);
  await c.completion(uri, pos);
  await c.hover(uri, positionOf(text, 'require'));
  await c.definition(uri, positionOf(text, 'helpers', 1));
  expect(existsSync(MARKER)).toBe(false);
});
