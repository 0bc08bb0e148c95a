/**
 * A fixture built on another (it resumes its parent and snapshots again) is
 * stored over its parent's cache entry: its RAM and root disk sections hold
 * only what changed, pointing at the parent by cache key. So are the VMs of
 * lab fixtures: one built on the VM fixture, one on that lab fixture. Real runs of the
 * built CLI on the default guest with a 16 MiB root disk: the child resumes
 * with its parent's writes and its own; a parent removed from the cache makes
 * the child be built again; an export carries both to another cache (another
 * directory), where the child resumes without a build. The guest work done
 * before a snapshot for the cache (trim, zeroed free memory) leaves no trace.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readHeader } from '@provium/qemu';
import { resolveProfile } from '@provium/image';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunEvent } from '@provium/types';

const CLI = path.resolve(__dirname, '../../runner/bin/provium.js');
const MiB = 1024 * 1024;
let dir: string;

const PARENT = `
local vm = provium:vm("parent", "withdisk"):boot()
vm:run("printf parent | dd of=/dev/vda conv=notrunc 2>/dev/null; dd if=/dev/urandom of=/dev/vda bs=1M seek=1 count=4 conv=notrunc,fsync 2>/dev/null"):assert_ok()
vm:run("dd if=/dev/vda bs=1M skip=1 count=4 2>/dev/null | md5sum > /tmp/parent.md5"):assert_ok()
vm:run("setsid sleep 100000 </dev/null >/dev/null 2>&1 &"):assert_ok()
return vm:snapshot()
`;

const CHILD = `
local vm = provium:vm_fixture("fixtures/parent")
vm:run("printf child! | dd of=/dev/vda bs=1M seek=8 conv=notrunc,fsync 2>/dev/null; echo child > /tmp/child.txt"):assert_ok()
return vm:snapshot()
`;

const LAB_CHILD = `
local vm = provium:vm_fixture("fixtures/parent")
vm:run("printf labchild | dd of=/dev/vda bs=1M seek=9 conv=notrunc,fsync 2>/dev/null; echo labchild > /tmp/labchild.txt"):assert_ok()
return provium:snapshot()
`;

const LAB_GRANDCHILD = `
local lab = provium:lab_fixture("fixtures/labchild")
lab.parent:run("echo grand > /tmp/grand.txt"):assert_ok()
return lab:snapshot()
`;

const LAB_TEST = `
test("a lab fixture over a lab fixture over a VM fixture sees every layer's writes", function(t)
  local vm = provium:lab_fixture("fixtures/labgrand").parent
  local function sh(cmd) return vm:run(cmd):assert_ok().stdout end
  t:assert_eq(sh("head -c 6 /dev/vda"), "parent")
  t:assert_eq(sh("dd if=/dev/vda bs=1M skip=9 count=1 2>/dev/null | head -c 8"), "labchild")
  t:assert_eq(sh("dd if=/dev/vda bs=1M skip=1 count=4 2>/dev/null | md5sum"), sh("cat /tmp/parent.md5"))
  t:assert_eq(sh("cat /tmp/labchild.txt /tmp/grand.txt"), "labchild\\ngrand\\n")
end)
`;

const TEST = `
test("the child sees its parent's writes and its own, disk and RAM", function(t)
  local vm = provium:vm_fixture("fixtures/child")
  local function sh(cmd) return vm:run(cmd):assert_ok().stdout end
  t:assert_eq(sh("head -c 6 /dev/vda"), "parent")
  t:assert_eq(sh("dd if=/dev/vda bs=1M skip=8 count=1 2>/dev/null | head -c 6"), "child!")
  t:assert_eq(sh("dd if=/dev/vda bs=1M skip=1 count=4 2>/dev/null | md5sum"), sh("cat /tmp/parent.md5"))
  t:assert_eq(sh("cat /tmp/child.txt"), "child\\n")
  -- What the snapshot for the cache trims and zeroes first leaves no trace: the process, no extra mount or directory.
  t:assert_eq(sh("pidof sleep >/dev/null && echo running"), "running\\n")
  t:assert_eq(sh("grep -c provium-zero /proc/mounts; test -e /dev/.provium-zero && echo left || echo gone"), "0\\ngone\\n")
end)
`;

interface Run {
  events: RunEvent[];
  stderr: string;
}

async function provium(args: string[], cache: string): Promise<Run & { exitCode: number }> {
  const r = await execa('node', [CLI, ...args], { cwd: dir, reject: false, env: { PROVIUM_CACHE_DIR: cache } });
  return { exitCode: r.exitCode ?? -1, events: r.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as RunEvent), stderr: r.stderr };
}
const test = (cache: string) => provium(['test', '--json', '--timeout-scale', '3', 'derived.test.lua', 'lab.test.lua'], cache);
const built = (r: Run) => r.events.filter((e) => e.event === 'fixture_build_started').map((e) => (e as { fixture: string }).fixture).sort();
const passed = (r: Run) => r.events.filter((e) => e.event === 'test_passed').length === 2 && !r.events.some((e) => e.event === 'test_failed');

/** key → sidecar of each entry of a cache's fixtures directory. */
function entries(cache: string): Map<string, { name: string; parents: string[] }> {
  const fixtures = path.join(cache, 'fixtures');
  return new Map(readdirSync(fixtures).filter((n) => /^[0-9a-f]{64}\.json$/.test(n)).map((n) => [n.slice(0, 64), JSON.parse(readFileSync(path.join(fixtures, n), 'utf8'))]));
}
const keyOf = (cache: string, name: string) => [...entries(cache)].find(([, s]) => s.name === name)![0];
const snap = (cache: string, key: string) => path.join(cache, 'fixtures', `${key}.snap`);

let first: Run;
let afterEviction: Run;
let imported: Run;
let keys: { parent: string; child: string; labChild: string; labGrandchild: string };
let sizes: { parent: number; child: number; parentRoot: number; childRoot: number; parentRam: number; childRam: number };

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'provium-derived-test-'));
  writeFileSync(path.join(dir, 'root.raw'), Buffer.alloc(16 * MiB));
  const def = await resolveProfile('default');
  writeFileSync(path.join(dir, 'provium.toml'), [
    '[provium]', 'roots = ["."]', '',
    '[profiles.withdisk]', `kernel = ${JSON.stringify(def.kernel)}`, `initrd = ${JSON.stringify(def.initrd)}`, `cmdline = ${JSON.stringify(def.cmdline)}`, 'disk = "root.raw"', '',
  ].join('\n'));
  mkdirSync(path.join(dir, 'fixtures'));
  writeFileSync(path.join(dir, 'fixtures', 'parent.fixture.lua'), PARENT);
  writeFileSync(path.join(dir, 'fixtures', 'child.fixture.lua'), CHILD);
  writeFileSync(path.join(dir, 'fixtures', 'labchild.fixture.lua'), LAB_CHILD);
  writeFileSync(path.join(dir, 'fixtures', 'labgrand.fixture.lua'), LAB_GRANDCHILD);
  writeFileSync(path.join(dir, 'derived.test.lua'), TEST);
  writeFileSync(path.join(dir, 'lab.test.lua'), LAB_TEST);
  const cache = path.join(dir, 'cache');
  first = await test(cache);
  keys = { parent: keyOf(cache, 'fixtures/parent'), child: keyOf(cache, 'fixtures/child'), labChild: keyOf(cache, 'fixtures/labchild'), labGrandchild: keyOf(cache, 'fixtures/labgrand') };
  const p = readHeader(snap(cache, keys.parent));
  const c = readHeader(snap(cache, keys.child));
  sizes = {
    parent: statSync(snap(cache, keys.parent)).size, child: statSync(snap(cache, keys.child)).size,
    parentRoot: p.disks![0].length, childRoot: c.disks![0].length, parentRam: p.ram!.length, childRam: c.ram!.length,
  };
  // Export both, then evict the parent: the child is built again over a new parent.
  const exported = await provium(['fixture', 'export', path.join(dir, 'both.tar'), 'fixtures/child', 'fixtures/labgrand'], cache);
  expect(exported.exitCode, exported.stderr).toBe(0);
  rmSync(snap(cache, keys.parent));
  rmSync(path.join(cache, 'fixtures', `${keys.parent}.json`));
  afterEviction = await test(cache);
  // Another cache, in another directory: the import brings the parent along and the child resumes unbuilt.
  const other = path.join(dir, 'other-cache');
  const imp = await provium(['fixture', 'import', path.join(dir, 'both.tar')], other);
  expect(imp.exitCode, imp.stderr).toBe(0);
  imported = await test(other);
}, 900_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a fixture derived from another', () => {
  it('resumes with its parent\'s writes and its own', () => {
    expect(passed(first), first.stderr).toBe(true);
    expect(built(first)).toEqual(['fixtures/child', 'fixtures/labchild', 'fixtures/labgrand', 'fixtures/parent']);
  });

  it('stores only its own delta, over its parent by cache key', () => {
    const cache = path.join(dir, 'cache');
    const c = readHeader(path.join(cache, 'fixtures', `${keys.child}.snap`));
    expect(c.ram?.over?.ref).toBe(`${keys.parent}.snap`);
    expect(c.disks?.[0].over?.ref).toBe(`${keys.parent}.snap`);
    expect(entries(cache).get(keys.child)?.parents).toEqual([keys.parent]);
    expect(entries(cache).get(keys.parent)?.parents).toEqual([]);
    // The parent's root layer holds 4 MiB of random data; the child's only its 6 bytes (a cluster or so).
    expect(sizes.parentRoot).toBeGreaterThan(4 * MiB);
    expect(sizes.childRoot).toBeLessThan(MiB);
    expect(sizes.childRam).toBeLessThan(sizes.parentRam);
    console.log(`derived entry ${sizes.child} bytes / parent's ${sizes.parent} = ${((100 * sizes.child) / sizes.parent).toFixed(1)}%; RAM ${sizes.childRam} / ${sizes.parentRam}, root ${sizes.childRoot} / ${sizes.parentRoot}`);
  });

  it('a lab fixture\'s VMs are stored over the VM fixture or the lab fixture they came from', () => {
    const cache = path.join(dir, 'cache');
    const child = path.join(cache, 'fixtures', `${keys.labChild}.lab`, 'parent.snap');
    const grandchild = path.join(cache, 'fixtures', `${keys.labGrandchild}.lab`, 'parent.snap');
    for (const [file, over] of [[child, `${keys.parent}.snap`], [grandchild, `${keys.labChild}.lab/parent.snap`]]) {
      const h = readHeader(file);
      expect(h.ram?.over?.ref).toBe(over);
      expect(h.disks?.[0].over?.ref).toBe(over);
      expect(h.disks![0].length).toBeLessThan(MiB); // a few clusters, not the parent's 4 MiB of random data again
      expect(statSync(file).size).toBeLessThan(sizes.parent / 4);
    }
    expect(entries(cache).get(keys.labChild)?.parents).toEqual([keys.parent]);
    expect(entries(cache).get(keys.labGrandchild)?.parents).toEqual([keys.labChild]);
  });

  it('is built again, parent first, when its parent left the cache', () => {
    expect(passed(afterEviction), afterEviction.stderr).toBe(true);
    expect(built(afterEviction)).toEqual(['fixtures/child', 'fixtures/labchild', 'fixtures/labgrand', 'fixtures/parent']);
    expect(afterEviction.stderr).toMatch(new RegExp(`${keys.child}\\.snap is stored over entry ${keys.parent}, which is gone; removing it and building again`));
  });

  it('travels with its parent in an export, and resumes in another cache directory', () => {
    expect(passed(imported), imported.stderr).toBe(true);
    expect(built(imported)).toEqual([]);
  });
});
