/**
 * Spare labs end to end (runner/src/worker/vm/lab-spares.ts): a file resumes
 * one lab fixture in test after test, and two copies at once. Every resume
 * takes a spare lab of the worker (the first, one made as the file started:
 * the fixture is cached, and the file names it); it must be the fixture's lab in
 * every way a test can see: bridges that carry pings, the partition and the
 * latency of the snapshot, its own switches, bridge operations that act on
 * them. Nothing it started outlives the run.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RunEvent, TestFailed, VmSpawned } from '@provium/types';
import { defaultRuntimeRoot } from '../../packages/qemu/src/index.js';

const CLI = path.resolve(__dirname, '../../runner/bin/provium.js');
let project: string;
let cache: string;
let events: RunEvent[];
let pid: number;

const FILES: Record<string, string> = {
  'provium.toml': '[provium]\nroots = ["tests"]\n',
  // a and c cannot talk; b's replies to a take 100 ms more
  'tests/fixtures/trio.fixture.lua': `
local lan = provium:bridge("lan")
local a = provium:vm("a", "default")
local b = provium:vm("b", "default")
local c = provium:vm("c", "default")
lan:attach({a, b, c})
provium:boot()
lan:partition(a, c)
lan:add_latency({ from = b, to = a, ms = 100 })
return provium:snapshot()
`,
  // run on its own by the last case: the harness kills a VM of the spare lab between the two tests
  'tests/broken/killed.test.lua': `
test("resume while the spare lab is made", function(t)
  local lab = provium:lab_fixture("fixtures/trio")
  lab.a:run("true"):assert_ok()
  local marker = os.getenv("MARKER")
  wait_until(function() local f = io.open(marker) if f then f:close() return true end end, { timeout = 120, desc = "the harness's marker" })
end)
test("the next resume finds the spare lab broken and restores the lab afresh", function(t)
  local lab = provium:lab_fixture("fixtures/trio")
  t:assert(lab.a:run("ping -c 1 -W 2 b.lan"):ok(), "a reaches b")
end)
`,
  'tests/spares.test.lua': `
local function reach(from, to) return from:run("ping -c 1 -W 2 " .. to):ok() end

for i = 1, 3 do
  test("resume " .. i, function(t)
    local lab = provium:lab_fixture("fixtures/trio")
    t:assert_eq(lab:name(), "trio")
    t:assert(reach(lab.a, "b.lan"), "a reaches b")
    t:assert(reach(lab.c, "b.lan"), "c reaches b")
    t:assert(not reach(lab.a, "c.lan"), "a -> c is partitioned")
    local rtt = tonumber(lab.a:run("ping -c 1 -W 3 b.lan"):assert_ok().stdout:match("time=([%d%.]+)"))
    t:assert(rtt >= 100, "b -> a has its 100 ms: RTT " .. tostring(rtt))
    lab.lan:unpartition(lab.a, lab.c)
    t:assert(reach(lab.a, "c.lan"), "unpartition acts on this copy's switch")
  end)
end

test("two copies at once are independent", function(t)
  local one = provium:lab_fixture("fixtures/trio")
  local two = provium:lab_fixture("fixtures/trio")
  t:assert_eq({ one:name(), two:name() }, { "trio", "trio2" })
  one.lan:unpartition(one.a, one.c)
  t:assert(reach(one.a, "c.lan"))
  t:assert(not reach(two.a, "c.lan"), "the other copy keeps its partition")
  local before = two.b:nic("lan"):counters().rx_packets
  one.a:run("ping -c 3 -i 0.2 b.lan"):assert_ok()
  t:assert_eq(two.b:nic("lan"):counters().rx_packets, before, "the other copy's b saw none of it")
end)
`,
};

const failures = () => events.filter((e): e is TestFailed => e.event === 'test_failed').map((e) => `${e.test}: ${e.error.message}`);

beforeAll(async () => {
  project = mkdtempSync(path.join(tmpdir(), 'provium-lab-spares-'));
  cache = mkdtempSync(path.join(tmpdir(), 'provium-lab-spares-cache-'));
  for (const [rel, text] of Object.entries(FILES)) {
    mkdirSync(path.dirname(path.join(project, rel)), { recursive: true });
    writeFileSync(path.join(project, rel), text);
  }
  const build = await execa('node', [CLI, 'fixture', 'build', '--timeout-scale', '3'], { cwd: project, reject: false, env: { PROVIUM_CACHE_DIR: cache } });
  if (build.exitCode !== 0) throw new Error(`provium fixture build failed:\n${build.stdout}\n${build.stderr}`);
  const child = execa('node', [CLI, 'test', '--json', '--timeout-scale', '3', 'tests/spares.test.lua'], { cwd: project, reject: false, env: { PROVIUM_CACHE_DIR: cache } });
  const r = await child;
  pid = child.pid!;
  events = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as RunEvent);
}, 900_000);

afterAll(() => {
  rmSync(project, { recursive: true, force: true });
  rmSync(cache, { recursive: true, force: true });
});

it('a lab resumed from a spare lab is the fixture\'s lab: pings, partition, latency, its own switches', () => {
  expect(failures()).toEqual([]);
  expect(events.filter((e) => e.event === 'test_passed')).toHaveLength(4);
});

it('every resume takes a spare lab: the first the one made as the file started (the fixture is cached), the second copy of a test too', () => {
  const spawned = events.filter((e) => e.event === 'vm_spawned');
  expect(spawned.map((e) => e.vm).sort()).toEqual(['a', 'b', 'c'].flatMap((v) => Array(5).fill(v)));
  expect(spawned.map((e) => e.spare ?? false)).toEqual(Array(15).fill(true));
});

it('leaves no QEMU and no run directory behind, the last spare lab (never taken) included', () => {
  for (const e of events) if (e.event === 'vm_spawned') expect(() => process.kill(e.pid, 0), `QEMU ${e.pid} of ${e.vm} is gone`).toThrow();
  expect(readdirSync(defaultRuntimeRoot()).filter((d) => d.startsWith(`${pid}-`))).toEqual([]);
});

/** QEMU processes whose parent is `parent`. */
function qemuChildren(parent: number): number[] {
  return readdirSync('/proc').filter((d) => /^\d+$/.test(d)).flatMap((d) => {
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      // (QEMU names its process after the VM: the command line says what it is)
      return ppid === parent && readFileSync(`/proc/${d}/cmdline`, 'utf8').includes('qemu-system') ? [Number(d)] : [];
    } catch {
      return []; // gone meanwhile
    }
  });
}

it('a spare lab one of whose VMs died is not taken: the lab is restored afresh and the rest of the spare is killed', async () => {
  const marker = path.join(project, 'marker');
  const trace = path.join(project, 'trace.jsonl');
  const child = execa('node', [CLI, 'test', '--json', '--timeout-scale', '3', 'tests/broken/killed.test.lua'], {
    cwd: project, reject: false, env: { PROVIUM_CACHE_DIR: cache, MARKER: marker, PROVIUM_TRACE: trace },
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const inUse = () => out.split('\n').filter((l) => l.includes('"vm_spawned"')).map((l) => (JSON.parse(l) as VmSpawned).pid);
  // the VMs of the spare lab made after the first resume (which took the one made as the file started)
  // have answered their handshakes: kill one of them
  const handshakes = () => (existsSync(trace) ? readFileSync(trace, 'utf8').split('\n').filter((l) => l.includes('"spare handshake"')).length : 0);
  for (let i = 0; i < 1200 && handshakes() < 6; i++) await new Promise((r) => setTimeout(r, 100));
  const spares = qemuChildren(child.pid!).filter((p) => !inUse().includes(p));
  expect(spares).toHaveLength(3);
  process.kill(spares[1], 'SIGKILL');
  writeFileSync(marker, '');
  const r = await child;
  const evs = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as RunEvent);
  expect(evs.filter((e): e is TestFailed => e.event === 'test_failed').map((e) => e.error.message)).toEqual([]);
  const spawned = evs.filter((e): e is VmSpawned => e.event === 'vm_spawned');
  expect(spawned.map((e) => e.spare ?? false)).toEqual([...Array(3).fill(true), ...Array(3).fill(false)]);
  for (const p of spares) expect(() => process.kill(p, 0), `spare QEMU ${p} is gone`).toThrow();
  expect(readdirSync(defaultRuntimeRoot()).filter((d) => d.startsWith(`${child.pid}-`))).toEqual([]);
}, 600_000);
