// Completion over JSON-RPC: types followed through the code, fixture / profile / module names, option keys.
import { API } from '@provium/types';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { cursor, LspTestClient, makeProject } from './helpers/lsp-client.js';
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

/** Opens `src` (with a `|` cursor) as a new test file and returns the completion labels there. */
async function labelsAt(src: string, file = `tests/c${n++}.test.lua`): Promise<string[]> {
  const { text, pos } = cursor(src);
  const uri = await c.openDocument(project.uri(file), text);
  return (await c.completion(uri, pos)).map((i) => i.label);
}

const methods = (cls: string) => API.classes.find((k) => k.name === cls)!.methods.map((m) => m.name);

describe('types flow through the code', () => {
  test('`local snap = vm:run("x")` then `snap:` completes RunResult, not Snapshot', async () => {
    const labels = await labelsAt('local vm = provium:vm("a", "default"):boot()\ntest("x", function(t)\n  local snap = vm:run("x")\n  snap:|\nend)\n');
    expect(labels.sort()).toEqual(methods('RunResult').sort());
  });

  test('chained calls: provium:vm(...):boot() is a VM', async () => {
    const labels = await labelsAt('test("x", function(t)\n  provium:vm("a", "default"):boot():|\nend)\n');
    expect(labels.sort()).toEqual(methods('VM').sort());
  });

  test('the test body parameter is the TestContext; its fields after "."', async () => {
    expect((await labelsAt('test("x", function(t)\n  t:|\nend)\n')).sort()).toEqual(methods('TestContext').sort());
    expect((await labelsAt('test("x", {slow = true}, function(ctx)\n  ctx.|\nend)\n')).sort()).toEqual(['meta', 'name']);
  });

  test('the callback of vm:batch gets the Batch builder; its entries are BatchEntry records', async () => {
    const vm = 'local vm = provium:vm("a", "default"):boot()\n';
    expect((await labelsAt(`${vm}local r = vm:batch(function(b)\n  b:|\nend)\n`)).sort()).toEqual(methods('Batch').sort());
    expect((await labelsAt(`${vm}local r = vm:batch(function(b) b:stat("/") end)\nprint(r[1].|)\n`)).sort()).toEqual(['err', 'ok']);
    // a method of the same name on a table of the author's own types nothing
    expect(await labelsAt('local m = {}\nfunction m:batch(f) end\nm:batch(function(b)\n  b:|\nend)\n')).toEqual([]);
  });

  test('reassignment changes the type', async () => {
    const labels = await labelsAt('local vm = provium:vm("a", "default")\ntest("x", function(t)\n  local x = vm:snapshot()\n  x = vm:run("ls")\n  x:|\nend)\n');
    expect(labels.sort()).toEqual(methods('RunResult').sort());
  });

  test('returns of local functions and upvalues', async () => {
    const labels = await labelsAt('local lab = provium\nlocal function mk(name)\n  return lab:vm(name, "default")\nend\ntest("x", function(t)\n  mk("b"):|\nend)\n');
    expect(labels).toContain('run');
    expect(labels).toContain('snapshot');
  });

  test('provium:snapshot() is a LabSnapshot, vm:snapshot() a Snapshot', async () => {
    expect((await labelsAt('local s = provium:snapshot()\ns:|\n')).sort()).toEqual(methods('LabSnapshot').sort());
    expect((await labelsAt('local s = provium:vm_fixture("fixtures/base"):snapshot()\ns:|\n')).sort()).toEqual(methods('Snapshot').sort());
  });

  test('for loops over lists: vm:listdir() entries are DirEntry records', async () => {
    const labels = await labelsAt('local vm = provium:vm("a", "default")\nfor _, e in ipairs(vm:listdir("/")) do\n  print(e.|)\nend\n');
    expect(labels.sort()).toEqual(['entry_type', 'name']);
  });

  test('lab_fixture("x") is a Lab whose members are the VMs and bridges x creates', async () => {
    const labels = await labelsAt('local cluster = provium:lab_fixture("fixtures/cluster")\ntest("x", function(t)\n  cluster.|\nend)\n');
    expect(labels).toEqual(expect.arrayContaining(['a', 'b', 'lan']));
    const vmLabels = await labelsAt('local cluster = provium:lab_fixture("fixtures/cluster")\ncluster.a:|\n');
    expect(vmLabels.sort()).toEqual(methods('VM').sort());
  });

  test('require("helpers.x") is the helper\'s table; its functions return what they return', async () => {
    expect((await labelsAt('local net = require("helpers.net")\nnet.|\n')).sort()).toEqual(['pair', 'version']);
    expect((await labelsAt('local net = require("helpers.net")\nnet.pair(provium):|\n')).sort()).toEqual(methods('VM').sort());
  });

  test('strings are strings: r.stdout: offers string methods', async () => {
    expect(await labelsAt('local r = provium:vm("a", "default"):run("ls")\nr.stdout:|\n')).toEqual(expect.arrayContaining(['match', 'find', 'gsub']));
  });
});

describe('names inside strings and tables', () => {
  test('vm_fixture(" offers single-VM fixtures only, lab_fixture(" lab fixtures only', async () => {
    const vmNames = await labelsAt('local vm = provium:vm_fixture("|")\n');
    expect(vmNames).toContain('fixtures/base');
    expect(vmNames).not.toContain('fixtures/cluster');
    const labNames = await labelsAt('local lab = provium:lab_fixture("fix|")\n');
    expect(labNames).toEqual(['fixtures/cluster']);
  });

  test('completion items replace what is typed inside the quotes', async () => {
    const { text, pos } = cursor('local vm = provium:vm_fixture("fixtures/ba|")\n');
    const uri = await c.openDocument(project.uri('tests/edit.test.lua'), text);
    const base = (await c.completion(uri, pos)).find((i) => i.label === 'fixtures/base')!;
    expect(base.textEdit).toEqual({ range: { start: { line: 0, character: 31 }, end: pos }, newText: 'fixtures/base' });
  });

  test('profile names in vm(name, "', async () => {
    expect((await labelsAt('local vm = provium:vm("a", "|")\n')).sort()).toEqual(['debian', 'default', 'fast']);
  });

  test('module names in require("', async () => {
    expect(await labelsAt('local net = require("|")\n')).toEqual(['helpers.net']);
  });

  test('meta keys in test(name, {', async () => {
    expect((await labelsAt('test("x", {|\n')).sort()).toEqual(['skip', 'slow', 'tags', 'timeout']);
    expect((await labelsAt('test("x", { slow = true, t|')).sort()).toEqual(['skip', 'tags', 'timeout']);
  });

  test('option keys of nested records: vm:boot({files = {{', async () => {
    expect((await labelsAt('local vm = provium:vm("a", "default")\nvm:boot({ files = { { | } } })\n')).sort()).toEqual(['content', 'mode', 'path']);
    expect((await labelsAt('local vm = provium:vm("a", "default")\nvm:run("ls", {|')).sort()).toEqual(['args', 'cwd', 'env', 'stdin', 'timeout', 'timeout_ms']);
  });
});

describe('names in scope', () => {
  test('locals, upvalues and the Provium globals, with their types', async () => {
    const { text, pos } = cursor('local vm = provium:vm("a", "default")\ntest("x", function(t)\n  local r = vm:run("ls")\n  |\nend)\n');
    const uri = await c.openDocument(project.uri('tests/names.test.lua'), text);
    const items = await c.completion(uri, pos);
    const detail = (l: string) => items.find((i) => i.label === l)?.detail;
    expect(detail('r')).toBe('local r: RunResult');
    expect(detail('vm')).toBe('local vm: VM');
    expect(detail('t')).toBe('local t: TestContext');
    for (const g of API.globals) expect(items.map((i) => i.label)).toContain(g.name);
  });

  test('nothing is offered inside comments or while naming a new local', async () => {
    expect(await labelsAt('-- vm:|\n')).toEqual([]);
    expect(await labelsAt('local vm|\n')).toEqual([]);
  });
});
