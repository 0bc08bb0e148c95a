// Hover, signature help, go-to-definition, document symbols, code lenses and code actions over JSON-RPC.
import { API } from '@provium/types';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { cursor, LspTestClient, makeProject, PLANNED_SERVER_ARGS, positionOf } from './helpers/lsp-client.js';
import { SAMPLE_FILES } from './helpers/sample-project.js';

const TEST_FILE = [
  'local net = require("helpers.net")',
  'local cluster = provium:lab_fixture("fixtures/cluster")',
  'local vm = provium:vm_fixture("fixtures/base")',
  '',
  'test("démarrage ✓", function(t)',
  '  local r = vm:run("ls", { timeout = "5s" })',
  '  t:assert_eq(r.exit_code, 0)',
  '  cluster.a:run("ping -c 1 b.lan")',
  'end)',
  '',
  'test("pair", { slow = true }, function(t)',
  '  local p = net.pair(provium)',
  'end)',
  '',
].join('\n');

const project = makeProject({ ...SAMPLE_FILES, 'tests/nav.test.lua': TEST_FILE });
let c: LspTestClient;
let uri: string;
beforeAll(async () => {
  c = await LspTestClient.start(project.dir);
  uri = await c.openDocument(project.uri('tests/nav.test.lua'));
});
afterAll(async () => {
  await c.shutdown();
  project.cleanup();
});

const at = (needle: string, delta = 0) => positionOf(TEST_FILE, needle, delta);
const hoverText = async (needle: string, delta = 0) => {
  const h = await c.hover(uri, at(needle, delta));
  return h && typeof h.contents === 'object' && 'value' in h.contents ? h.contents.value : '';
};

test('hover: the signature and doc of a method from the schema', async () => {
  const run = API.classes.find((k) => k.name === 'VM')!.methods.find((m) => m.name === 'run')!;
  const text = await hoverText('vm:run', 4);
  expect(text).toContain('VM:run(cmd: string, opts?: RunOpts|string[]): RunResult');
  expect(text).toContain(run.doc);
  expect(text).not.toContain('not available yet');
});

test('hover: a planned method says it is not available yet', async () => {
  // The schema has no planned method today: this server has one added, VM:migrate.
  const c2 = await LspTestClient.start(project.dir, { diagnosticsDelay: 0 }, {}, PLANNED_SERVER_ARGS);
  try {
    const { text, pos } = cursor('local vm = provium:vm("a", "default")\nvm:mig|rate("elsewhere")\n');
    const h = await c2.hover(await c2.openDocument(project.uri('tests/planned.test.lua'), text), pos);
    const shown = h && typeof h.contents === 'object' && 'value' in h.contents ? h.contents.value : '';
    expect(shown).toContain('VM:migrate(host: string)');
    expect(shown).toContain('Moves the running VM to another host.');
    expect(shown).toContain('**not available yet**: in the API contract, not implemented by the runtime yet.');
  } finally {
    await c2.shutdown();
  }
});

test('hover: the inferred type of a name, a fixture member, a fixture name', async () => {
  expect(await hoverText('local r', 6)).toContain('local r: RunResult');
  expect(await hoverText('local cluster', 6)).toContain('local cluster: Lab (fixture "fixtures/cluster")');
  expect(await hoverText('cluster.a', 8)).toContain('a: VM');
  const fixture = await hoverText('"fixtures/base"', 2);
  expect(fixture).toContain('single-VM fixture (returns a Snapshot) **fixtures/base**');
  expect(await hoverText('t:assert_eq', 0)).toContain('local t: TestContext');
});

test('signature help follows the argument being typed', async () => {
  const sig = await c.signatureHelp(uri, at('{ timeout', 2));
  expect(sig?.activeParameter).toBe(1);
  const label = sig!.signatures[sig!.activeSignature!].label;
  expect(label).toBe('VM:run(cmd: string, opts?: RunOpts|string[]): RunResult');
  const [s, e] = sig!.signatures[sig!.activeSignature!].parameters![1].label as [number, number];
  expect(label.slice(s, e)).toBe('opts?: RunOpts|string[]');
  const testSig = await c.signatureHelp(uri, at('{ slow', 1));
  expect(testSig!.signatures[testSig!.activeSignature!].label).toBe('test(name: string, meta?: TestMeta, fn: function)');
  expect(testSig?.activeParameter).toBe(1);
});

test('go to definition: fixture name to its file, require to the module, cluster.a to its provium:vm line, a local to its declaration', async () => {
  const loc = async (needle: string, delta: number) => {
    const d = await c.definition(uri, at(needle, delta));
    return Array.isArray(d) ? d[0] : d;
  };
  expect(await loc('"fixtures/base"', 3)).toEqual({ uri: project.uri('tests/fixtures/base.fixture.lua'), range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } } });
  expect((await loc('"helpers.net"', 3))?.uri).toBe(project.uri('tests/helpers/net.lua'));
  const a = await loc('cluster.a', 8);
  expect(a?.uri).toBe(project.uri('tests/fixtures/cluster.fixture.lua'));
  expect(a?.range).toEqual({ start: { line: 0, character: 10 }, end: { line: 0, character: 36 } });
  const pair = await loc('net.pair', 5);
  expect(pair).toEqual({ uri: project.uri('tests/helpers/net.lua'), range: { start: { line: 2, character: 11 }, end: { line: 2, character: 15 } } });
  expect((await loc('r.exit_code', 0))?.range.start).toEqual(at('local r', 6));
});

test('document symbols list the tests (UTF-8 names decoded from the source)', async () => {
  const symbols = await c.documentSymbols(uri);
  expect(symbols.filter((s) => s.detail === 'test').map((s) => [s.name, s.selectionRange.start.line])).toEqual([['démarrage ✓', 4], ['pair', 10]]);
});

test('code lenses and code actions run a test or the file, with the commands the server declares', async () => {
  const commands = c.initializeResult.capabilities.executeCommandProvider?.commands ?? [];
  const lenses = await c.codeLens(uri);
  expect(lenses.map((l) => [l.range.start.line, l.command?.command, l.command?.arguments])).toEqual([
    [0, 'provium.runFile', [uri]],
    [4, 'provium.runTest', [uri, 'démarrage ✓']],
    [10, 'provium.runTest', [uri, 'pair']],
  ]);
  const actions = await c.codeActions(uri, { start: at('net.pair'), end: at('net.pair') });
  expect(actions.map((a) => [a.title, a.command?.command, a.command?.arguments])).toEqual([
    ['Run test "pair"', 'provium.runTest', [uri, 'pair']],
    ['Run this file', 'provium.runFile', [uri]],
  ]);
  for (const x of [...lenses.map((l) => l.command!.command), ...actions.map((a) => a.command!.command)]) expect(commands).toContain(x);
});

test('the server announces incremental sync and every feature', () => {
  const caps = c.initializeResult.capabilities;
  expect(caps.textDocumentSync).toMatchObject({ openClose: true, change: 2 });
  expect(caps.completionProvider?.triggerCharacters).toEqual(expect.arrayContaining([':', '.', '"']));
  expect(caps).toMatchObject({ hoverProvider: true, definitionProvider: true, documentSymbolProvider: true });
  expect(caps.signatureHelpProvider?.triggerCharacters).toContain('(');
  expect(caps.codeLensProvider).toBeTruthy();
  expect(caps.codeActionProvider).toBeTruthy();
  expect(caps.executeCommandProvider?.commands.sort()).toEqual(['provium.runFile', 'provium.runTest']);
});
