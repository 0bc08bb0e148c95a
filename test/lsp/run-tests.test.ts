// "Run this test" / "run this file" over JSON-RPC: the commands the lenses and actions carry run the
// real `provium test` (no VM needed for these tests), and the failures come back as diagnostics.
import type { CodeAction, Diagnostic } from 'vscode-languageserver-protocol';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { CLI_BIN, LspTestClient, makeProject, positionOf } from './helpers/lsp-client.js';

const FILE = [
  'test("passes", function(t)', //  0
  '  t:assert_eq(1 + 1, 2)', //  1
  'end)', //  2
  '', //  3
  'test("fails", function(t)', //  4
  '  local x = 1', //  5
  '  t:assert_eq(x, 2)', //  6
  'end)', //  7
  '', //  8
  'test("errors", function(t)', //  9
  '  error("boom")', // 10
  'end)', // 11
  '',
].join('\n');

const project = makeProject({
  'provium.toml': '[provium]\nroots = ["tests"]\n',
  'tests/run.test.lua': FILE,
  'tests/load.test.lua': 'local x = nil\nx.y = 1\ntest("never", function(t) end)\n',
});
let c: LspTestClient;
beforeAll(async () => {
  c = await LspTestClient.start(project.dir, { diagnosticsDelay: 0, cliPath: CLI_BIN });
});
afterAll(async () => {
  await c.shutdown();
  project.cleanup();
});

interface RunOutcome {
  command: string[];
  exitCode: number | null;
  passed: number;
  failed: number;
  skipped: number;
  error?: string;
}

const fromRun = (ds: Diagnostic[]) => ds.filter((d) => d.source === 'provium test').map((d) => [d.range, d.message]);
const line = (l: number, from: number, to: number) => ({ start: { line: l, character: from }, end: { line: l, character: to } });

test('run this file (the code lens): each failure becomes a diagnostic on its failing line, with the assertion message', async () => {
  const uri = await c.openDocument(project.uri('tests/run.test.lua'));
  expect(await c.currentDiagnostics(uri)).toEqual([]);
  const fileLens = (await c.codeLens(uri)).find((l) => l.command?.command === 'provium.runFile')!;
  const published = c.diagnosticsFor(uri, (p) => p.diagnostics.some((d) => d.source === 'provium test'));
  const outcome = await c.executeCommand<RunOutcome>(fileLens.command!.command, fileLens.command!.arguments!);
  expect(outcome).toMatchObject({ passed: 1, failed: 2, skipped: 0, exitCode: 1 });
  expect(outcome.command.slice(1)).toEqual(['test', 'tests/run.test.lua', '--json']);
  expect(fromRun(await published)).toEqual([
    [line(6, 2, 19), 'test "fails" failed: assert_eq failed: 1 ~= 2'],
    [line(10, 2, 15), 'test "errors" failed: boom'],
  ]);
  expect(c.messages.at(-1)).toEqual({ type: 2, message: 'provium test tests/run.test.lua: 1 passed, 2 failed, 0 skipped' });
});

test('run this test (the code action): only that test reruns; its diagnostic goes once it passes, the others stay', async () => {
  const uri = project.uri('tests/run.test.lua');
  const fixed = FILE.replace('local x = 1', 'local x = 2');
  project.write('tests/run.test.lua', fixed); // the run reads the saved file
  await c.change(uri, fixed);
  const at = positionOf(fixed, 'assert_eq(x');
  const actions: CodeAction[] = await c.codeActions(uri, { start: at, end: at });
  const runTest = actions.find((a) => a.command?.command === 'provium.runTest')!;
  expect(runTest.title).toBe('Run test "fails"');
  const published = c.diagnosticsFor(uri, (p) => p.diagnostics.filter((d) => d.source === 'provium test').length === 1);
  const outcome = await c.executeCommand<RunOutcome>(runTest.command!.command, runTest.command!.arguments!);
  expect(outcome).toMatchObject({ passed: 1, failed: 0, exitCode: 0 });
  expect(outcome.command.slice(1)).toEqual(['test', 'tests/run.test.lua', '--filter', 'fails', '--json']);
  expect(fromRun(await published)).toEqual([[line(10, 2, 15), 'test "errors" failed: boom']]);
  expect(c.messages.at(-1)).toEqual({ type: 3, message: 'provium test tests/run.test.lua --filter "fails": 1 passed, 0 failed, 0 skipped' });
});

test('a file that fails while loading: the error sits on the line that raised it', async () => {
  const uri = await c.openDocument(project.uri('tests/load.test.lua'));
  const published = c.diagnosticsFor(uri, (p) => p.diagnostics.some((d) => d.source === 'provium test'));
  const outcome = await c.executeCommand<RunOutcome>('provium.runFile', [uri]);
  expect(outcome).toMatchObject({ passed: 0, failed: 0, exitCode: 1 });
  expect(fromRun(await published)).toEqual([[line(1, 0, 7), "file failed: attempt to index a nil value (local 'x')"]]);
});

test('closing a file clears its diagnostics, run failures included', async () => {
  const uri = project.uri('tests/load.test.lua');
  const cleared = c.diagnosticsFor(uri, (p) => p.diagnostics.length === 0);
  await c.close(uri);
  expect(await cleared).toEqual([]);
});

test('a provium command that cannot start: an error message that says what to do, no crash', async () => {
  const c2 = await LspTestClient.start(project.dir, { diagnosticsDelay: 0, cliPath: '/nonexistent/provium' });
  try {
    const uri = await c2.openDocument(project.uri('tests/run.test.lua'));
    const outcome = await c2.executeCommand<RunOutcome>('provium.runFile', [uri]);
    expect(outcome.error).toMatch(/^cannot start \/nonexistent\/provium: /);
    expect(c2.messages.at(-1)?.type).toBe(1);
    expect(await c2.executeCommand('provium.nope', [uri])).toBeNull();
    expect(c2.messages.at(-1)?.message).toMatch(/^provium: unknown command or arguments: provium.nope/);
    expect(await c2.hover(uri, { line: 1, character: 3 })).not.toBeNull();
  } finally {
    await c2.shutdown();
  }
});

test('an editor that does not trust the workspace turns the runs off (allowRun: false): nothing is started', async () => {
  const c3 = await LspTestClient.start(project.dir, { diagnosticsDelay: 0, cliPath: CLI_BIN, allowRun: false });
  try {
    const uri = await c3.openDocument(project.uri('tests/run.test.lua'));
    expect(await c3.executeCommand('provium.runFile', [uri])).toBeNull();
    expect(c3.messages.at(-1)).toEqual({ type: 1, message: 'provium: running tests is turned off in this workspace (the editor does not trust it): trust the workspace to run them' });
    expect((await c3.codeLens(uri)).length).toBe(4);
  } finally {
    await c3.shutdown();
  }
});
