/**
 * `provium fixture graph|list|stale` and the graph check of `provium test`,
 * through the real CLI on temp projects. The fixtures boot a profile of
 * provium.toml with plain files for kernel and initrd: keys need only their
 * content, and nothing here boots a VM or builds the default image.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { project, provium, proviumWithEnv } from './helpers.js';

const made: string[] = [];
afterAll(() => made.forEach((d) => rmSync(d, { recursive: true, force: true })));

const TOML = `[provium]
roots = ["tests"]
cache_dir = "cache"

[profiles.tiny]
kernel = "boot/kernel"
initrd = "boot/initrd"
memory = "128M"
`;

const FILES: Record<string, string> = {
  'provium.toml': TOML,
  'boot/kernel': 'a kernel',
  'boot/initrd': 'an initrd',
  'files/site.conf': 'listen 80\n',
  'tests/fixtures/base.fixture.lua': 'local vm = provium:vm("base", "tiny"):boot()\nvm:write_file("/etc/motd", "hi")\nreturn vm:snapshot()\n',
  'tests/fixtures/web.fixture.lua': 'local vm = provium:vm_fixture("fixtures/base")\nvm:push_file("files/site.conf", "/etc/site.conf")\nreturn vm:snapshot()\n',
  'tests/fixtures/cluster.fixture.lua': 'local a = provium:vm("a", "tiny"):boot()\nlocal w = provium:vm_fixture("fixtures/web")\nreturn provium:snapshot()\n',
  'tests/fixtures/lonely.fixture.lua': 'return provium:vm("l", "tiny"):boot():snapshot()\n',
  'tests/web.test.lua': 'test("web", function(t)\n  local vm = provium:vm_fixture("fixtures/web")\nend)\n',
  'tests/cluster.test.lua': 'test("cluster", function(t)\n  local c = provium:lab_fixture("fixtures/cluster")\nend)\n',
};

function makeProject(files: Record<string, string> = FILES): string {
  const dir = project(files);
  made.push(dir);
  return dir;
}

interface JsonFixture {
  name: string;
  file: string;
  kind: string;
  state: string;
  reason?: string;
  key: string | null;
  bytes: number;
  builds_on: { name: string; kind: string; known: boolean; line: number }[];
  used_by: { file: string; line: number }[];
  used: boolean;
  resumed_by: string[];
  profiles: string[];
  host_files: string[];
  old_entries: { key: string; bytes: number }[];
}

async function graphJson(dir: string, env: Record<string, string> = {}) {
  const r = await proviumWithEnv(dir, env, 'fixture', 'graph', '--json');
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const j = JSON.parse(r.stdout) as { cache_dir: string; fixtures: JsonFixture[]; orphan_entries: unknown[]; unknown_references: unknown[]; cycle: string[] | null };
  return { ...j, byName: new Map(j.fixtures.map((f) => [f.name, f])) };
}

/** Installs a fake cache entry as the lead's installer does: `<key>.snap` or `<key>.lab/` plus the `<key>.json` sidecar. */
function install(cacheDir: string, key: string, name: string, kind: 'vm' | 'lab', bytes: number, builtAt = '2026-01-01T00:00:00.000Z') {
  mkdirSync(cacheDir, { recursive: true });
  if (kind === 'vm') writeFileSync(path.join(cacheDir, `${key}.snap`), Buffer.alloc(bytes, 7));
  else {
    mkdirSync(path.join(cacheDir, `${key}.lab`));
    writeFileSync(path.join(cacheDir, `${key}.lab`, 'a.snap'), Buffer.alloc(bytes, 7));
    writeFileSync(path.join(cacheDir, `${key}.lab`, 'lab.json'), '{"vms":[]}');
  }
  writeFileSync(path.join(cacheDir, `${key}.json`), JSON.stringify({ name, kind, bytes, built_at: builtAt, duration_ms: 1234 }));
}

describe('provium fixture graph', () => {
  it('prints each fixture, what it builds on (recursively), the test files that use it and its state', async () => {
    const dir = makeProject();
    const r = await provium(dir, 'fixture', 'graph');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')).toEqual([
      'fixtures/base  vm  never built',
      '└── resumed by fixtures/web',
      'fixtures/cluster  lab  never built',
      '├── fixtures/web  vm  never built',
      '│   └── fixtures/base  vm  never built',
      '└── used by tests/cluster.test.lua',
      'fixtures/lonely  vm  never built',
      '└── no test file uses it',
      'fixtures/web  vm  never built',
      '├── fixtures/base  vm  never built',
      '├── used by tests/web.test.lua',
      '└── resumed by fixtures/cluster',
      `cache ${path.join(dir, 'cache', 'fixtures')}: 0 entries, 0 B`,
    ]); // (execa drops the final newline)
  });

  it('--json gives keys, edges, users, profiles and host files; --dot gives Graphviz', async () => {
    const dir = makeProject();
    const j = await graphJson(dir);
    expect(j.cache_dir).toBe(path.join(dir, 'cache', 'fixtures'));
    expect(j.cycle).toBeNull();
    expect(j.unknown_references).toEqual([]);
    const web = j.byName.get('fixtures/web')!;
    expect(web).toMatchObject({
      file: 'tests/fixtures/web.fixture.lua',
      kind: 'vm',
      state: 'never built',
      builds_on: [{ name: 'fixtures/base', kind: 'vm', known: true, line: 1 }],
      used_by: [{ file: 'tests/web.test.lua', line: 2 }],
      used: true,
      profiles: [],
      host_files: ['files/site.conf'],
    });
    expect(web.key).toMatch(/^[0-9a-f]{64}$/);
    expect(j.byName.get('fixtures/base')!).toMatchObject({ used: true, used_by: [], resumed_by: ['fixtures/web'], profiles: ['tiny'] });
    expect(j.byName.get('fixtures/cluster')!.kind).toBe('lab');
    expect(j.byName.get('fixtures/lonely')!.used).toBe(false);

    const dot = await provium(dir, 'fixture', 'graph', '--dot');
    expect(dot.code).toBe(0);
    expect(dot.stdout).toMatch(/^digraph fixtures \{\n/);
    expect(dot.stdout).toMatch(/\n\}$/);
    expect(dot.stdout).toContain('"fixtures/web" -> "fixtures/base" [label="builds on"];');
    expect(dot.stdout).toContain('"fixtures/cluster" -> "fixtures/web" [label="builds on"];');
    expect(dot.stdout).toContain('"tests/web.test.lua" [shape=note];');
    expect(dot.stdout).toContain('"tests/web.test.lua" -> "fixtures/web";');
    expect(dot.stdout).toContain('"fixtures/base" [shape=box, style=filled, fillcolor="#eeeeee", label="fixtures/base\\nvm · never built"];');

    const both = await provium(dir, 'fixture', 'graph', '--dot', '--json');
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('give --dot or --json, not both');
  });

  it('keys hold no absolute path: a copy of the project elsewhere has the same keys', async () => {
    const a = await graphJson(makeProject());
    const b = await graphJson(makeProject());
    expect(b.fixtures.map((f) => f.key)).toEqual(a.fixtures.map((f) => f.key));
  });
});

describe('cache states', () => {
  it('fresh, stale and never built follow the entries and the inputs; list and stale show them', async () => {
    const dir = makeProject();
    const cache = path.join(dir, 'cache', 'fixtures');
    const j = await graphJson(dir);
    const key = (n: string) => j.byName.get(n)!.key!;
    install(cache, key('fixtures/base'), 'fixtures/base', 'vm', 300_000);
    install(cache, key('fixtures/cluster'), 'fixtures/cluster', 'lab', 200_000);
    install(cache, 'e'.repeat(64), 'fixtures/web', 'vm', 100_000); // built from older inputs
    install(cache, 'f'.repeat(64), 'fixtures/removed', 'vm', 50_000); // its fixture is gone
    writeFileSync(path.join(cache, `${'a'.repeat(64)}.lock`), '');

    const list = await provium(dir, 'fixture', 'list');
    expect(list.code).toBe(0);
    const rows = list.stdout.split('\n');
    expect(rows[0]).toMatch(/^NAME\s+KIND\s+STATE\s+SIZE$/);
    expect(rows[1]).toMatch(/^fixtures\/base\s+vm\s+fresh\s+\d+\.\d kB$/);
    expect(rows[2]).toMatch(/^fixtures\/cluster\s+lab\s+fresh\s+\d+\.\d kB$/);
    expect(rows[3]).toMatch(/^fixtures\/lonely\s+vm\s+never built\s+-$/);
    expect(rows[4]).toMatch(/^fixtures\/web\s+vm\s+stale\s+\(\d+\.\d kB old\)$/);
    expect(rows[5]).toMatch(new RegExp(`^cache ${cache.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: 4 entries, \\d+\\.\\d kB$`));

    const stale = await provium(dir, 'fixture', 'stale');
    expect(stale.code).toBe(0);
    expect(stale.stdout).toMatch(/^fixtures\/web {2}vm {2}\d+\.\d kB {2}built 2026-01-01T00:00:00\.000Z$/m);
    expect(stale.stdout).toContain('1 stale:');
    expect(stale.stdout).toMatch(/1 cache entry of fixtures that no longer exist: fixtures\/removed ffffffffffff \d+\.\d kB/);
    expect(stale.stdout).not.toMatch(/^fixtures\/base/m);

    const tree = await provium(dir, 'fixture', 'graph');
    expect(tree.stdout).toMatch(/^fixtures\/base {2}vm {2}fresh \d+\.\d kB$/m);
    expect(tree.stdout).toMatch(/^fixtures\/web {2}vm {2}stale \(\d+\.\d kB built for older inputs\)$/m);

    // Editing base makes it stale, and web and cluster (built on it) get new keys too.
    writeFileSync(path.join(dir, 'tests/fixtures/base.fixture.lua'), FILES['tests/fixtures/base.fixture.lua']!.replace('"hi"', '"hello"'));
    const after = await graphJson(dir);
    expect(after.byName.get('fixtures/base')!.state).toBe('stale');
    expect(after.byName.get('fixtures/cluster')!.state).toBe('stale');
    expect(after.byName.get('fixtures/web')!.key).not.toBe(key('fixtures/web'));
    expect(after.byName.get('fixtures/lonely')!.key).toBe(key('fixtures/lonely'));
    const staleJson = JSON.parse((await provium(dir, 'fixture', 'stale', '--json')).stdout) as { fixtures: JsonFixture[] };
    expect(staleJson.fixtures.map((f) => f.name)).toEqual(['fixtures/base', 'fixtures/cluster', 'fixtures/web']);

    // A host file of push_file is an input too; so is the profile's memory.
    const web0 = after.byName.get('fixtures/web')!.key;
    writeFileSync(path.join(dir, 'files/site.conf'), 'listen 8080\n');
    expect((await graphJson(dir)).byName.get('fixtures/web')!.key).not.toBe(web0);
    const lonely0 = after.byName.get('fixtures/lonely')!.key;
    writeFileSync(path.join(dir, 'provium.toml'), TOML.replace('128M', '256M'));
    expect((await graphJson(dir)).byName.get('fixtures/lonely')!.key).not.toBe(lonely0);
  }, 120_000);

  it('uses $PROVIUM_CACHE_DIR without cache_dir; a profile that does not resolve makes the state unknown, not an error', async () => {
    const dir = makeProject({
      'provium.toml': '[provium]\nroots = ["tests"]\n',
      'tests/odd.fixture.lua': 'return provium:vm("x", "nope"):boot():snapshot()\n',
      'tests/pure.fixture.lua': 'provium:depends_on_file("data.txt")\nreturn provium:lab("l"):snapshot()\n',
    });
    const cacheRoot = path.join(dir, 'elsewhere');
    const j = await graphJson(dir, { PROVIUM_CACHE_DIR: cacheRoot });
    expect(j.cache_dir).toBe(path.join(cacheRoot, 'fixtures'));
    expect(j.byName.get('fixtures/odd' as string)).toBeUndefined();
    const odd = j.byName.get('odd')!;
    expect(odd.state).toBe('unknown');
    expect(odd.reason).toMatch(/^fixture "odd": profile "nope": unknown profile "nope"/);
    expect(j.byName.get('pure')!).toMatchObject({ state: 'never built', kind: 'lab', host_files: ['data.txt'] });
    const list = await proviumWithEnv(dir, { PROVIUM_CACHE_DIR: cacheRoot }, 'fixture', 'list');
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^odd\s+vm\s+unknown: fixture "odd": profile "nope": unknown profile "nope"/m);
  });

  it('says so when there are no fixtures', async () => {
    const dir = makeProject({ 'tests/a.test.lua': 'test("a", function() end)\n' });
    const r = await provium(dir, 'fixture', 'list');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('no fixtures (*.fixture.lua) under tests');
  });
});

describe('a broken graph', () => {
  const CYCLE = {
    'tests/fixtures/a.fixture.lua': 'local v = provium:vm_fixture("fixtures/b")\nreturn v:snapshot()\n',
    'tests/fixtures/b.fixture.lua': '-- b resumes c\nlocal v = provium:vm_fixture("fixtures/c")\nreturn v:snapshot()\n',
    'tests/fixtures/c.fixture.lua': 'local v = provium:vm_fixture("fixtures/a")\nreturn v:snapshot()\n',
    'tests/plain.test.lua': 'test("plain", function(t) t:assert_eq(1, 1) end)\n',
  };

  it('provium test warns of a cycle before running, fails the test that resumes it there, and runs the rest', async () => {
    const dir = makeProject({
      ...CYCLE,
      'tests/loop.test.lua': 'test("loop", function(t)\n  local v = provium:vm_fixture("fixtures/a")\nend)\n',
      'tests/guarded.test.lua': 'test("guarded", function(t)\n  t:assert_raises(function() provium:vm_fixture("fixtures/b") end, "cycle")\nend)\n',
    });
    const r = await provium(dir, 'test', '--json');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('provium: warning: fixture dependency cycle: fixtures/a → fixtures/b → fixtures/c → fixtures/a');
    expect(r.stderr).toContain('tests/fixtures/b.fixture.lua:2: "fixtures/b" resumes "fixtures/c"');
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    const failed = events.find((e) => e.event === 'test_failed');
    expect(failed.test).toBe('loop');
    expect(failed.error.message).toContain('fixture dependency cycle: fixtures/a → fixtures/b → fixtures/c → fixtures/a');
    expect(failed.error.location).toMatchObject({ file: 'tests/loop.test.lua', line: 2 });
    expect(events.filter((e) => e.event === 'test_passed').map((e) => e.test).sort()).toEqual(['guarded', 'plain']);
    expect(events.at(-1)).toMatchObject({ event: 'run_completed', passed: 2, failed: 1, exit_code: 1 });
  });

  it('an unknown fixture is a warning before the run and an error at its use, with file:line, the name and a suggestion', async () => {
    const dir = makeProject({
      'tests/fixtures/base.fixture.lua': 'return provium:vm("b", "default"):boot():snapshot()\n',
      'tests/plain.test.lua': 'test("plain", function(t) end)\n',
      'tests/typo.test.lua': 'test("typo", function(t)\n  local vm = provium:vm_fixture("fixtures/bsae")\nend)\n',
    });
    const r = await provium(dir, 'test', '--json');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('provium: warning: tests/typo.test.lua:2: unknown fixture "fixtures/bsae" in vm_fixture: no fixtures/bsae.fixture.lua under the roots (did you mean "fixtures/base"?)');
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    const failed = events.find((e) => e.event === 'test_failed');
    expect(failed.test).toBe('typo');
    expect(failed.error.message).toContain('unknown fixture "fixtures/bsae"');
    expect(failed.error.message).toContain('did you mean "fixtures/base"?');
    expect(failed.error.location).toMatchObject({ file: 'tests/typo.test.lua', line: 2 });
    expect(events.some((e) => e.event === 'test_passed' && e.test === 'plain')).toBe(true);
    // Even without any fixture file.
    const none = makeProject({ 'tests/t.test.lua': 'test("t", function(t)\n  provium:lab_fixture("x")\nend)\n' });
    const r2 = await provium(none, 'test');
    expect(r2.code).toBe(1);
    expect(r2.stderr).toContain('tests/t.test.lua:2: unknown fixture "x" in lab_fixture');
    expect(r2.stderr).toContain('there is no *.fixture.lua under tests');
    expect(r2.stdout).toContain('there is no *.fixture.lua under the roots');
  });

  it('a sound graph does not stop a run', async () => {
    const dir = makeProject({ ...FILES, 'tests/plain.test.lua': 'test("plain", function(t) t:assert_eq(1, 1) end)\n' });
    const r = await provium(dir, 'test', 'tests/plain.test.lua');
    expect(r.code).toBe(0);
    expect(r.lastLine).toBe('1 passed, 0 failed, 0 skipped');
  });

  it('fixture graph still prints a graph with a cycle, marks it and exits 2', async () => {
    const dir = makeProject(CYCLE);
    const r = await provium(dir, 'fixture', 'graph');
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('fixtures/a  vm  unknown: fixture dependency cycle: fixtures/a → fixtures/b → fixtures/c → fixtures/a');
    expect(r.stdout).toMatch(/│ {3}└── fixtures\/c .*\n│ {7}└── fixtures\/a {2}cycle!/);
    expect(r.stderr).toContain('fixture dependency cycle: fixtures/a → fixtures/b → fixtures/c → fixtures/a');
    const j = JSON.parse((await provium(dir, 'fixture', 'graph', '--json')).stdout) as { cycle: string[] };
    expect(j.cycle).toEqual(['fixtures/a', 'fixtures/b', 'fixtures/c', 'fixtures/a']);
  });
});
