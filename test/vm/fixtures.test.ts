/**
 * Fixtures end to end: real fixture builders and test files run by the built
 * CLI on the real default guest, with a private cache directory.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FileCompleted, FixtureBuildDone, RunEvent, TestFailed } from '@provium/types';
import { defaultRuntimeRoot } from '../../packages/qemu/src/index.js';

const CLI = path.resolve(__dirname, '../../runner/bin/provium.js');
let project: string;
let cache: string;

const FILES: Record<string, string> = {
  'provium.toml': '[provium]\nroots = ["tests"]\n',
  'tests/helpers/tool.lua': 'return { script = "#!/bin/sh\\necho \\"hello, ${1:-world}\\"\\n" }\n',
  'tests/fixtures/base.fixture.lua': `
local tool = require("helpers.tool")
local vm = provium:vm("base", "default"):boot()
vm:mkdir("/usr/local/bin", { parents = true })
vm:write_file("/usr/local/bin/greet", tool.script)
vm:run("chmod 755 /usr/local/bin/greet"):assert_ok()
return vm:snapshot()
`,
  // builds on base: a fixture that resumes another
  'tests/fixtures/layered.fixture.lua': `
local vm = provium:vm_fixture("fixtures/base")
vm:write_file("/etc/layer", "two\\n")
return vm:snapshot()
`,
  'tests/fixtures/pair.fixture.lua': `
local a = provium:vm("a", "default"):boot()
local b = provium:vm("b", "default"):boot()
a:write_file("/etc/role", "primary\\n")
b:write_file("/etc/role", "replica\\n")
-- 48 MiB of random data in pages freed again: stored as they are unless the snapshot zeroes free memory
b:run("dd if=/dev/urandom of=/root/junk bs=1M count=48 2>/dev/null && sync && rm /root/junk"):assert_ok()
return provium:snapshot()
`,
  'tests/fixtures/broken.fixture.lua': 'return 42\n',
  'tests/fixtures/unused.fixture.lua': 'error("an unused fixture must never be built")\n',
  'tests/base.test.lua': `
test("base fixture has its tool", function(t)
  local vm = provium:vm_fixture("fixtures/base")
  t:assert_eq(vm:name(), "base")
  t:assert_eq(vm:run("greet fixtures").stdout, "hello, fixtures\\n")
end)
local uuid
-- From the second resume on, the VM is one its worker restored ahead of time and paused:
-- it must still be a fresh copy, with the clock of now and randomness of its own.
local function clock_is_now(t, vm)
  local guest = tonumber(vm:run("date +%s").stdout)
  t:assert(math.abs(guest - os.time()) < 10, "guest clock " .. guest .. " is not now (" .. os.time() .. ")")
end
test("every test resumes it afresh", function(t)
  local vm = provium:vm_fixture("fixtures/base")
  t:assert_eq(vm:run("test -e /etc/layer; echo $?").stdout, "1\\n")
  vm:write_file("/root/dirty", "x")
  clock_is_now(t, vm)
  uuid = vm:read_file("/proc/sys/kernel/random/uuid")
end)
test("and sees nothing of the one before", function(t)
  local vm = provium:vm_fixture("fixtures/base")
  t:assert_eq(vm:run("test -e /root/dirty; echo $?").stdout, "1\\n")
  clock_is_now(t, vm)
  t:assert(vm:read_file("/proc/sys/kernel/random/uuid") ~= uuid, "two resumes drew the same random UUID")
end)
`,
  'tests/layered.test.lua': `
test("a fixture built on a fixture has both layers", function(t)
  local vm = provium:vm_fixture("fixtures/layered")
  t:assert_eq(vm:read_file("/etc/layer"), "two\\n")
  t:assert_eq(vm:run("greet").stdout, "hello, world\\n")
end)
`,
  'tests/pair.test.lua': `
local function err(fn) return tostring(select(2, pcall(fn))) end
test("a lab fixture's VMs answer by name", function(t)
  local pair = provium:lab_fixture("fixtures/pair")
  t:assert_eq(pair.a:read_file("/etc/role"), "primary\\n")
  t:assert_eq(pair.b:read_file("/etc/role"), "replica\\n")
end)
test("the wrong call says which one to use", function(t)
  t:assert_contains(err(function() provium:vm_fixture("fixtures/pair") end), 'resume it with provium:lab_fixture("fixtures/pair")')
  t:assert_contains(err(function() provium:lab_fixture("fixtures/base") end), 'resume it with provium:vm_fixture("fixtures/base")')
end)
`,
  'tests/broken1.test.lua': 'test("needs broken", function(t) provium:vm_fixture("fixtures/broken") end)\n',
  'tests/broken2.test.lua': 'test("needs broken too", function(t) provium:vm_fixture("fixtures/broken") end)\n',
  'tests/filtered.test.lua': 'test("never selected", { tags = { "nope" } }, function(t) provium:vm_fixture("fixtures/unused") end)\n',
};

async function provium(args: string[], cwd = project): Promise<{ events: RunEvent[]; stderr: string; code: number; pid: number }> {
  const child = execa('node', [CLI, ...args], { cwd, reject: false, env: { PROVIUM_CACHE_DIR: cache } });
  const r = await child;
  const events = args[0] === 'test' ? r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as RunEvent) : [];
  return { events, stderr: r.stderr, code: r.exitCode ?? -1, pid: child.pid! };
}

const of = <E extends RunEvent['event']>(evs: RunEvent[], name: E) => evs.filter((e): e is Extract<RunEvent, { event: E }> => e.event === name);
const fileDone = (evs: RunEvent[], file: string) => evs.find((e): e is FileCompleted => e.event === 'file_completed' && e.file.endsWith(file));
const failures = (evs: RunEvent[]) => evs.filter((e): e is TestFailed => e.event === 'test_failed').map((e) => `${e.file} ${e.test}: ${e.error.message}`);

let first: RunEvent[];

beforeAll(async () => {
  project = mkdtempSync(path.join(tmpdir(), 'provium-fixtures-'));
  cache = mkdtempSync(path.join(tmpdir(), 'provium-cache-'));
  for (const [rel, text] of Object.entries(FILES)) {
    mkdirSync(path.dirname(path.join(project, rel)), { recursive: true });
    writeFileSync(path.join(project, rel), text);
  }
  ({ events: first } = await provium(['test', '-j2', '--json', '--timeout-scale', '3', '--no-tag', 'nope', 'tests']));
}, 600_000);

afterAll(() => {
  rmSync(project, { recursive: true, force: true });
  rmSync(cache, { recursive: true, force: true });
});

describe('first run: builds on demand', () => {
  it('the good fixtures pass their tests', () => {
    expect(failures(first).filter((f) => !f.includes('broken'))).toEqual([]);
    for (const f of ['base.test.lua', 'layered.test.lua', 'pair.test.lua']) expect(fileDone(first, f)?.status).toBe('passed');
  });

  it('each fixture is built once, a fixture used only by filtered-out tests never', () => {
    const started = of(first, 'fixture_build_started').map((e) => e.fixture).sort();
    expect(started).toEqual(['fixtures/base', 'fixtures/broken', 'fixtures/layered', 'fixtures/pair']);
    const done = of(first, 'fixture_build_done').filter((e) => e.ok);
    for (const d of done) expect(d.bytes).toBeGreaterThan(0);
  });

  it('the cache holds <key>.snap and <key>.lab/ entries with sidecars, compressed well below the guest RAM', () => {
    const names = readdirSync(path.join(cache, 'fixtures'));
    const snaps = names.filter((n) => n.endsWith('.snap'));
    const labs = names.filter((n) => n.endsWith('.lab'));
    expect(snaps).toHaveLength(2);
    expect(labs).toHaveLength(1);
    expect(readdirSync(path.join(cache, 'fixtures', labs[0])).sort()).toEqual(['a.snap', 'b.snap', 'lab.json']);
    const index = JSON.parse(readFileSync(path.join(cache, 'fixtures', labs[0], 'lab.json'), 'utf8')) as { vms: { file: string }[] };
    expect(index.vms.map((v) => v.file)).toEqual(['a.snap', 'b.snap']);
    // A lab fixture's VMs are prepared for the cache as a VM fixture is: b's freed random pages are zeros in its snapshot.
    for (const f of ['a.snap', 'b.snap']) expect(statSync(path.join(cache, 'fixtures', labs[0], f)).blocks * 512).toBeLessThan(0.1 * 256 * 1024 * 1024);
    for (const s of snaps) {
      const side = JSON.parse(readFileSync(path.join(cache, 'fixtures', s.replace('.snap', '.json')), 'utf8')) as { name: string; kind: string };
      expect(side.kind).toBe('vm');
      const done = of(first, 'fixture_build_done').find((e) => e.fixture === side.name) as FixtureBuildDone;
      expect(done.bytes).toBeLessThan(0.1 * 256 * 1024 * 1024);
    }
    expect(names.filter((n) => n.includes('partial') || n.startsWith('.build'))).toEqual([]);
  });

  it('a builder that returns something else fails every file that needs it, once, naming the fixture and what it got', () => {
    expect(of(first, 'fixture_build_started').filter((e) => e.fixture === 'fixtures/broken')).toHaveLength(1);
    for (const f of ['broken1.test.lua', 'broken2.test.lua']) {
      expect(fileDone(first, f)?.status).toBe('failed');
      expect(failures(first).find((m) => m.includes(f))).toContain('fixture "fixtures/broken" must return a Snapshot');
      expect(failures(first).find((m) => m.includes(f))).toContain('it returned number');
    }
  });
});

describe('later runs', () => {
  it('resume from the cache without building; no QEMU started ahead of time for a next resume outlives the run', async () => {
    const { events, pid } = await provium(['test', '-j2', '--json', '--timeout-scale', '3', 'tests/base.test.lua', 'tests/pair.test.lua', 'tests/layered.test.lua']);
    expect(failures(events)).toEqual([]);
    expect(of(events, 'fixture_build_started')).toEqual([]);
    expect(of(events, 'fixture_cache_hit').map((e) => e.fixture).sort()).toEqual(['fixtures/base', 'fixtures/layered', 'fixtures/pair']);
    // base.test.lua resumes its fixture three times: the first takes the VM restored ahead of time as the file
    // started (the fixture is cached, and the file names it), the second and third the one restored after the
    // resume before; the last restore leaves such a spare behind in its worker.
    const spawned = of(events, 'vm_spawned').filter((e) => e.file.endsWith('base.test.lua'));
    expect(spawned.map((e) => e.spare ?? false)).toEqual([true, true, true]);
    expect(readdirSync(defaultRuntimeRoot()).filter((d) => d.startsWith(`${pid}-`))).toEqual([]);
  }, 300_000);

  it('a changed helper the fixture requires changes its key: base and the fixture on top of it are rebuilt', async () => {
    writeFileSync(path.join(project, 'tests/helpers/tool.lua'), 'return { script = "#!/bin/sh\\necho \\"hello, ${1:-world}\\"\\n# v2\\n" }\n');
    const { events } = await provium(['test', '-j2', '--json', '--timeout-scale', '3', 'tests/layered.test.lua']);
    expect(failures(events)).toEqual([]);
    expect(of(events, 'fixture_build_started').map((e) => e.fixture).sort()).toEqual(['fixtures/base', 'fixtures/layered']);
  }, 300_000);

  it('two provium processes at once build a fixture once', async () => {
    writeFileSync(path.join(project, 'tests/helpers/tool.lua'), 'return { script = "#!/bin/sh\\necho \\"hello, ${1:-world}\\"\\n# v3\\n" }\n');
    const [a, b] = await Promise.all([1, 2].map(() => provium(['test', '--json', '--timeout-scale', '3', 'tests/base.test.lua'])));
    expect([...failures(a.events), ...failures(b.events)]).toEqual([]);
    expect([...of(a.events, 'fixture_build_started'), ...of(b.events, 'fixture_build_started')]).toHaveLength(1);
    expect([...of(a.events, 'fixture_cache_hit'), ...of(b.events, 'fixture_cache_hit')]).toHaveLength(1);
  }, 300_000);

  it('a corrupt cache entry is removed with a warning and rebuilt', async () => {
    const dir = path.join(cache, 'fixtures');
    const snaps = readdirSync(dir).filter((n) => n.endsWith('.snap'));
    for (const s of snaps) writeFileSync(path.join(dir, s), 'garbage');
    const r = await provium(['test', '--json', '--timeout-scale', '3', 'tests/base.test.lua']);
    expect(failures(r.events)).toEqual([]);
    expect(r.stderr).toMatch(/warning: fixture cache entry .*\.snap is corrupt .*not a Provium snapshot.*building again/);
    expect(of(r.events, 'fixture_build_started').map((e) => e.fixture)).toEqual(['fixtures/base']);
  }, 300_000);

  it('a build never waits for the pool: at -j1, with the whole pool claimed by the file that asks, the fixture builds', async () => {
    writeFileSync(path.join(project, 'tests/helpers/tool.lua'), 'return { script = "#!/bin/sh\\necho \\"hello, ${1:-world}\\"\\n# v4\\n" }\n');
    writeFileSync(path.join(project, 'tests/held.test.lua'), `
provium:claim({ cpus = 1, memory = "512M" })        -- the whole pool's CPU, held by this file
test("asks for a fixture while holding the pool", function(t)
  local vm = provium:vm_fixture("fixtures/base")   -- built outside the pool, resumed within the claim
  t:assert_eq(vm:run("greet").stdout, "hello, world\\n")
end)
`);
    try {
      const r = await provium(['test', '-j1', '--json', '--timeout-scale', '3', '--cpu-overcommit', '0.5', 'tests/held.test.lua']);
      expect(failures(r.events)).toEqual([]);
      expect(of(r.events, 'fixture_build_done').map((e) => [e.fixture, e.ok])).toEqual([['fixtures/base', true]]);
    } finally {
      rmSync(path.join(project, 'tests/held.test.lua'));
    }
  }, 300_000);

  it('provium fixture rebuild builds a fresh fixture again; clean empties the cache', async () => {
    const r = await execa('node', [CLI, 'fixture', 'rebuild', 'fixtures/base', '--timeout-scale', '3'], { cwd: project, reject: false, env: { PROVIUM_CACHE_DIR: cache } });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/building fixtures\/base\nbuilt +fixtures\/base \(/);
    const c = await execa('node', [CLI, 'fixture', 'clean'], { cwd: project, reject: false, env: { PROVIUM_CACHE_DIR: cache } });
    expect(c.exitCode).toBe(0);
    expect(readdirSync(cache)).not.toContain('fixtures');
  }, 300_000);
});
