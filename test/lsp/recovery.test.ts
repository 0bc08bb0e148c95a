// Completion in code that is being typed: each recovery technique, end to end over JSON-RPC.
import { API } from '@provium/types';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { cursor, LspTestClient, makeProject, positionOf } from './helpers/lsp-client.js';
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

const methods = (cls: string) => API.classes.find((k) => k.name === cls)!.methods.map((m) => m.name).sort();

async function labelsAt(src: string): Promise<string[]> {
  const { text, pos } = cursor(src);
  const uri = await c.openDocument(project.uri(`tests/r${n++}.test.lua`), text);
  return (await c.completion(uri, pos)).map((i) => i.label).sort();
}

test('placeholder: `vm:` with nothing after it', async () => {
  expect(await labelsAt('local vm = provium:vm("a", "default")\nvm:|')).toEqual(methods('VM'));
  expect(await labelsAt('local vm = provium:vm("a", "default")\nvm:ru|\nlocal after = 1\n')).toEqual(methods('VM'));
});

test('inside an unfinished call: `vm:run(` gets signature help, its option table gets keys', async () => {
  const { text, pos } = cursor('local vm = provium:vm("a", "default")\ntest("x", function(t)\n  vm:run(|\n');
  const uri = await c.openDocument(project.uri('tests/unfinished.test.lua'), text);
  const sig = await c.signatureHelp(uri, pos);
  expect(sig?.signatures[sig.activeSignature ?? 0].label).toMatch(/^VM:run\(cmd: string, opts\?: RunOpts\|string\[\]\)/);
  expect(sig?.activeParameter).toBe(0);
  expect(await labelsAt('local vm = provium:vm("a", "default")\nvm:run("ls", { cw|')).toEqual(['args', 'cwd', 'env', 'stdin', 'timeout', 'timeout_ms']);
});

test('completion inside an unfinished call: names at `vm:run(`, members in its argument', async () => {
  const names = await labelsAt('local vm = provium:vm("a", "default")\ntest("x", function(t)\n  local r = vm:run("ls")\n  vm:run(|');
  expect(names).toEqual(expect.arrayContaining(['vm', 'r', 't', 'provium']));
  expect(await labelsAt('local vm = provium:vm("a", "default")\nlocal r = vm:run("ls")\nvm:run(r.|')).toEqual(API.classes.find((k) => k.name === 'RunResult')!.fields.map((f) => f.name).sort());
});

test('inside an unclosed `function(t)` (no end, no closing parenthesis)', async () => {
  expect(await labelsAt('test("x", function(t)\n  local vm = provium:vm("a", "default")\n  t:|')).toEqual(methods('TestContext'));
});

test('a backward scan balances parentheses: `print(vm:`', async () => {
  expect(await labelsAt('local vm = provium:vm("a", "default")\nprint(vm:|')).toEqual(methods('VM'));
  expect(await labelsAt('local vm = provium:vm("a", "default")\nprint(tostring(vm:run("ls"):|')).toEqual(methods('RunResult'));
});

test('a syntax error elsewhere in the file does not matter', async () => {
  const src = 'test("broken", function(t)\n  local x = = 1\nend)\n\nlocal vm = provium:vm("a", "default")\ntest("ok", function(t)\n  vm:snapshot():|\nend)\n';
  expect(await labelsAt(src)).toEqual(methods('Snapshot'));
});

test('an error earlier in the same statement: declarations from the nodes parsed before it, receiver by token scan', async () => {
  const src = 'local vm = provium:vm("a", "default")\ntest("x", function(t)\n  local snap = vm:snapshot()\n  local = = 3\n  print(snap:|\nend)\n';
  expect(await labelsAt(src)).toEqual(methods('Snapshot'));
  // The test context is known from the unclosed `test(..., function(t)` tokens.
  expect(await labelsAt('test("x", function(t)\n  local = = 3\n  t:|')).toEqual(methods('TestContext'));
});

test('the last good tree keeps declarations of a statement that is now broken', async () => {
  const text = 'local vm = provium:vm("a", "default")\nprint("between")\n\ntest("x", function(t)\n  vm:boot()\nend)\n';
  const uri = await c.openDocument(project.uri('tests/lastgood.test.lua'), text);
  // Break the declaration in its own statement: `local vm = (provium:vm("a", "default")`
  const at = positionOf(text, 'provium');
  await c.change(uri, [{ range: { start: at, end: at }, text: '(' }]);
  const diags = await c.currentDiagnostics(uri);
  expect(diags.filter((d) => d.code === 'syntax').map((d) => d.range.start.line)).toEqual([0]);
  const inBody = positionOf(text, 'vm:boot', 3);
  const labels = (await c.completion(uri, inBody)).map((i) => i.label).sort();
  expect(labels).toEqual(methods('VM'));
});

test('a file that is already broken when opened still gets completion', async () => {
  const src = 'local vm = provium:vm("a", "default")\n\ntest("one", function(t)\n  vm:run("ls"\nend)\n\ntest("two", function(t)\n  local r = vm:run("ls")\n  r:|\nend)\n\ntest("three", function(t)\n  if then\nend)\n';
  expect(await labelsAt(src)).toEqual(methods('RunResult'));
});
