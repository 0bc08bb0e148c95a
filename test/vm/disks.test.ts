/**
 * Disks end to end: real Lua files run by the built CLI boot the default
 * guest under QEMU with boot disks of every source, disks attached before and
 * after boot, a profile's root disk through overlays, and host-side sector
 * calls, checked from inside the guest with dd and against the host's files.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { resolveProfile } from '@provium/image';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunEvent, TestFailed } from '@provium/types';

const CLI = path.resolve(__dirname, '../../runner/bin/provium.js');
const MiB = 1024 * 1024;
let dir: string;
let events: RunEvent[];
let stderr: string;
const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
let before: { template: string; base: string; seed: string };

const SOURCES = `
local vm = provium:vm("dsk", "default")
local late = vm:attach_disk({ id = "late", scratch = "1M" })
vm:boot({ disks = {
  { id = "data", scratch = "8M" },
  { template = "template.raw" },
  { id = "ro", path = "inplace.raw", readonly = true },
  { id = "rw", path = "inplace2.raw" },
} })

local function sh(cmd) return vm:run(cmd):assert_ok().stdout end

test("boot disks come in order with their sizes, serials and read-only flags", function(t)
  t:assert_eq(sh("for d in /sys/block/vd*; do echo \${d##*/} $(cat $d/size) $(cat $d/serial) $(cat $d/ro); done"),
    "vda 16384 data 0\\nvdb 4096 boot1 0\\nvdc 2048 ro 1\\nvdd 2048 rw 0\\nvde 2048 late 0\\n")
  t:assert_eq(late:id(), "late")
  t:assert_eq(vm:disk("data"):size(), 8 * 1024 * 1024)
end)

test("the guest's writes reach the disk's image; the host's writes reach the guest", function(t)
  sh("printf from-guest | dd of=/dev/vda bs=512 seek=3 conv=fsync 2>/dev/null")
  local data = vm:disk("data")
  t:assert_eq(data:read_sectors(3, 1):sub(1, 10), "from-guest")
  t:assert_eq(#data:read_sectors(16383, 5), 512) -- shorter at the end of the image
  data:write_sectors(5, "from-host")
  sh("blockdev --flushbufs /dev/vda")
  t:assert_eq(sh("dd if=/dev/vda bs=512 skip=5 count=1 2>/dev/null | head -c 9"), "from-host")
end)

test("a template is copied: the guest sees it and writes only its copy; a path disk is written in place", function(t)
  t:assert_eq(sh("head -c 8 /dev/vdb"), "TEMPLATE")
  sh("printf changed | dd of=/dev/vdb conv=fsync 2>/dev/null")
  t:assert_eq(vm:disk("boot1"):read_sectors(0, 1):sub(1, 7), "changed")
  t:assert_eq(sh("head -c 7 /dev/vdc"), "INPLACE")
  t:assert(not vm:run("printf x | dd of=/dev/vdc conv=fsync 2>/dev/null"):ok(), "a readonly disk refuses writes")
  sh("printf written | dd of=/dev/vdd conv=fsync 2>/dev/null")
end)

test("disk contents survive a reset of the guest", function(t)
  sh("printf before-reset | dd of=/dev/vda bs=512 seek=7 conv=fsync 2>/dev/null")
  vm:reset()
  t:assert_eq(sh("dd if=/dev/vda bs=512 skip=7 count=1 2>/dev/null | head -c 12"), "before-reset")
end)

test("a disk hot-plugged into the running guest appears; detached, it goes", function(t)
  local hot = vm:attach_disk({ id = "hot", scratch = "2M" })
  t:assert_eq(sh("for i in $(seq 100); do [ -e /sys/block/vdf ] && break; sleep 0.1; done; echo $(cat /sys/block/vdf/serial) $(cat /sys/block/vdf/size)"), "hot 4096\\n")
  sh("printf hot-data | dd of=/dev/vdf conv=fsync 2>/dev/null")
  t:assert_eq(hot:read_sectors(0, 1):sub(1, 8), "hot-data")
  t:assert_eq(hot:is_detached(), false)
  hot:detach()
  t:assert_eq(hot:is_detached(), true)
  t:assert_eq(sh("[ -e /sys/block/vdf ] && echo present || echo gone"), "gone\\n")
  t:assert_contains(tostring(t:assert_raises(function() hot:read_sectors(0, 1) end)), 'disk "hot" is detached')
end)

test("image with size: a private copy of that size, hot-plugged; a freed slot takes a disk of its own", function(t)
  local d = vm:attach_disk({ id = "backed", image = "seed.raw", size = "1M" })
  t:assert_eq(sh("for i in $(seq 100); do s=$(grep -lx backed /sys/block/vd*/serial) && break; sleep 0.1; done; b=\${s%/serial}; echo $(cat $b/size) $(head -c 4 /dev/\${b##*/})"), "2048 SEED\\n")
  t:assert_eq(d:size(), 1024 * 1024)
  d:write_sectors(0, "MINE")
  t:assert_eq(d:read_sectors(0, 1):sub(1, 4), "MINE")
  d:detach()
  d:detach()
  t:assert_eq(d:is_detached(), true)
  local again = vm:attach_disk({ id = "again", size = 4096 })
  t:assert_eq(again:read_sectors(0, 8), string.rep("\\0", 4096))
  again:detach()
  local function err(fn) return tostring(t:assert_raises(fn)) end
  t:assert_contains(err(function() vm:attach_disk({ id = "big", image = "seed.raw", size = 512 }) end), "holds 4096 bytes, more than size = 512")
  t:assert_contains(err(function() vm:attach_disk({ id = "two", path = "seed.raw", size = 4096 }) end), "got size and path")
end)

test("guest-visible faults on an unmediated disk: a bad value is named first, then mediation", function(t)
  local data = vm:disk("data")
  local function err(fn) return tostring(t:assert_raises(fn)) end
  t:assert_contains(err(function() data:fail_after(0) end), "at least 1")
  t:assert_contains(err(function() data:fail_range(10, 0) end), "at least 1")
  local e = err(function() data:fail_reads() end)
  t:assert_contains(e, 'disk "data" is not mediated')
  t:assert_contains(e, "mediated = true")
  local fresh = provium:vm("e2", "default")
  local early = fresh:attach_disk({ id = "early", size = 4096 })
  early:detach()
  t:assert_eq(early:is_detached(), true)
  t:assert_contains(err(function() early:read_sectors(0, 1) end), 'disk "early" is detached')
end)

test("host-side faults hit the test's own sector calls only", function(t)
  local data = vm:disk("data")
  data:fault_inject("eio_read")
  data:fault_inject("slow")
  t:assert_eq(data:active_faults(), { "eio_read", "slow" })
  t:assert_contains(tostring(t:assert_raises(function() data:read_sectors(0, 1) end)), "EIO")
  data:write_sectors(9, "still-writes")
  t:assert_eq(sh("dd if=/dev/vda bs=512 count=1 2>/dev/null | wc -c"), "512\\n") -- the guest never sees them
  data:clear_faults()
  t:assert_eq(data:read_sectors(9, 1):sub(1, 12), "still-writes")
  t:assert_contains(tostring(t:assert_raises(function() data:fault_inject("eio_all") end)), 'disk "data": unknown fault mode "eio_all"; the modes are "eio_read", "eio_write", "slow"')
end)

test("bad disk specs and ids are errors that name the disk", function(t)
  local function err(fn) return tostring(t:assert_raises(fn)) end
  local fresh = provium:vm("e", "default")
  t:assert_contains(err(function() fresh:boot({ disks = { { id = "x" } } }) end), 'disk "x": a disk needs exactly one source')
  t:assert_contains(err(function() fresh:boot({ disks = { { scratch = "1M", path = "inplace.raw" } } }) end), "got scratch and path")
  t:assert_contains(err(function() fresh:boot({ disks = { { scratch = "512Q" } } }) end), '"512Q"')
  t:assert_contains(err(function() fresh:boot({ disks = { { id = "m", path = "no/such.img" } } }) end), 'disk "m": path')
  t:assert_contains(err(function() fresh:boot({ disks = { { id = "a", scratch = "1M" }, { id = "a", scratch = "1M" } } }) end), 'two disks have the id "a"')
  t:assert_contains(err(function() fresh:boot({ disks = { { id = "b", image = "seed.raw", size = 512 } } }) end), 'disk "b": image')
  t:assert_contains(err(function() fresh:attach_disk({ id = "c", image = "seed.raw", size = 512 }) end), "holds 4096 bytes, more than size = 512; give a size of at least 4096 bytes")
  t:assert_eq(fresh:state(), "created")
  t:assert_contains(err(function() vm:disk("nope") end), 'has no disk "nope" (its disks: data, boot1, ro, rw, late')
  t:assert_contains(err(function() vm:attach_disk({ id = "data", scratch = "1M" }) end), 'already has a disk "data"')
end)
`;

/** A profile with a root disk: the default guest's kernel and initrd, and a raw image of 4 MiB. */
const ROOT = `
local a = provium:vm("dr1", "withdisk"):boot()
local b = provium:vm("dr2", "withdisk"):boot()

test("each VM runs on its own overlay of the profile's root disk", function(t)
  t:assert_eq(a:run("echo $(cat /sys/block/vda/serial) $(cat /sys/block/vda/size)"):assert_ok().stdout, "root 8192\\n")
  t:assert_eq(a:run("head -c 4 /dev/vda").stdout, "BASE")
  a:run("printf A-wrote | dd of=/dev/vda conv=fsync 2>/dev/null"):assert_ok()
  b:run("blockdev --flushbufs /dev/vda"):assert_ok()
  t:assert_eq(b:run("head -c 4 /dev/vda").stdout, "BASE")
  t:assert_eq(a:run("blockdev --flushbufs /dev/vda; head -c 7 /dev/vda").stdout, "A-wrote")
  t:assert_eq(a:disk("root"):size(), 4 * 1024 * 1024)
  t:assert_contains(tostring(t:assert_raises(function() a:disk("root"):read_sectors(0, 1) end)), "qcow2 overlay")
  t:assert_contains(tostring(t:assert_raises(function() provium:vm("r3", "withdisk"):boot({ disks = { { id = "root", scratch = "1M" } } }) end)), 'which the profile\\'s root disk uses')
end)
`;

/** Snapshots, restores, resets and fixtures of VMs with disks. */
const SNAPSHOTS = `
local function sh(vm, cmd) return vm:run(cmd):assert_ok().stdout end
local function put(vm, dev, text) sh(vm, "printf " .. text .. " | dd of=" .. dev .. " conv=fsync 2>/dev/null") end
local function head(vm, dev, n) return sh(vm, "blockdev --flushbufs " .. dev .. "; head -c " .. n .. " " .. dev) end

test("a snapshot keeps every disk; restores at once have independent disks", function(t)
  local vm = provium:vm("dsnap", "withdisk"):boot({ disks = { { id = "data", scratch = "4M" } } })
  put(vm, "/dev/vda", "root-snapped")
  put(vm, "/dev/vdb", "data-snapped")
  local snap = vm:snapshot()
  put(vm, "/dev/vdb", "data-changed")
  local a = provium:vm("dsa", "withdisk"):restore(snap)
  local b = provium:vm("dsb", "withdisk"):restore(snap)
  put(a, "/dev/vda", "A")
  put(a, "/dev/vdb", "A")
  t:assert_eq(head(a, "/dev/vda", 12) .. head(a, "/dev/vdb", 12), "Aoot-snappedAata-snapped")
  t:assert_eq(head(b, "/dev/vda", 12) .. head(b, "/dev/vdb", 12), "root-snappeddata-snapped")
  t:assert_eq(b:disk("data"):read_sectors(0, 1):sub(1, 12), "data-snapped")
  t:assert_eq(a:run("echo $(cat /sys/block/vdb/serial)").stdout, "data\\n")
  -- a restored VM snapshotted again: its root layer is folded onto the profile's image
  put(b, "/dev/vda", "second-gen")
  local c = provium:vm("dsc", "withdisk"):restore(b:snapshot())
  t:assert_eq(head(c, "/dev/vda", 12) .. head(c, "/dev/vdb", 12), "second-geneddata-snapped")
end)

test("vm:restore rolls the disks back", function(t)
  local vm = provium:vm("droll", "default"):boot({ disks = { { scratch = "1M" } } })
  put(vm, "/dev/vda", "kept")
  local snap = vm:snapshot()
  put(vm, "/dev/vda", "lost")
  vm:restore(snap)
  t:assert_eq(head(vm, "/dev/vda", 4), "kept")
end)

test("a fixture with disks resumes with them, afresh in every test", function(t)
  local vm = provium:vm_fixture("fixtures/disky")
  t:assert_eq(head(vm, "/dev/vda", 12) .. head(vm, "/dev/vdb", 12), "fixture-rootfixture-data")
  put(vm, "/dev/vdb", "scribbled")
end)

test("a fixture with disks, resumed again", function(t)
  local vm = provium:vm_fixture("fixtures/disky")
  t:assert_eq(head(vm, "/dev/vdb", 12), "fixture-data")
end)

test("a fixture with disks, resumed a third time: the host's sector calls see the guest's disk", function(t)
  local vm = provium:vm_fixture("fixtures/disky")
  t:assert_eq(head(vm, "/dev/vdb", 12), "fixture-data")
  put(vm, "/dev/vdb", "third-resume")
  t:assert_eq(vm:disk("data"):read_sectors(0, 1):sub(1, 12), "third-resume")
end)
`;

const RESETS = `
provium.reset_between_tests = true
local vm = provium:vm("dreset", "default"):boot({ disks = { { scratch = "1M" } } })
vm:run("printf clean | dd of=/dev/vda conv=fsync 2>/dev/null"):assert_ok()

test("first: dirties the disk", function(t)
  vm:run("printf dirty | dd of=/dev/vda conv=fsync 2>/dev/null"):assert_ok()
end)

test("second: reset_between_tests rolled the disk back", function(t)
  t:assert_eq(vm:run("head -c 5 /dev/vda").stdout, "clean")
end)
`;

const FIXTURE = `
local vm = provium:vm("fx", "withdisk"):boot({ disks = { { id = "data", scratch = "4M" } } })
vm:run("printf fixture-root | dd of=/dev/vda conv=fsync 2>/dev/null; printf fixture-data | dd of=/dev/vdb conv=fsync 2>/dev/null"):assert_ok()
return vm:snapshot()
`;

/** A mediated disk through the Lua API: every fault mode seen by the guest, cleared without a reboot. */
const MEDIATED = `
local vm = provium:vm("dmed", "default"):boot({ disks = { { id = "m", scratch = "4M", mediated = true }, { id = "plain", scratch = "1M" } } })
local function dd(cmd) return vm:run(cmd .. " 2>&1") end
local READ = "dd if=/dev/vda of=/dev/null bs=4k count=1 skip=10 iflag=direct"
local WRITE = "dd if=/dev/zero of=/dev/vda bs=4k count=1 seek=20 oflag=direct conv=fsync"

test("a mediated disk shows every fault mode to the guest; clearing restores service without a reboot", function(t)
  local d = vm:disk("m")
  local boot = vm:run("cat /proc/sys/kernel/random/boot_id").stdout
  vm:run("printf mediated | dd of=/dev/vda conv=fsync 2>/dev/null"):assert_ok()
  t:assert_eq(d:read_sectors(0, 1):sub(1, 8), "mediated") -- flushed: in the image
  d:fail_reads()
  t:assert_contains(dd(READ).stdout, "Input/output error")
  t:assert(dd(WRITE):ok(), "writes still pass")
  d:clear_policy()
  d:fail_writes()
  t:assert_contains(dd(WRITE).stdout, "Input/output error")
  d:clear_policy()
  d:fail_range(80, 8) -- 4 KiB block 10 is sectors 80..87
  t:assert_contains(dd(READ).stdout, "Input/output error")
  t:assert(dd("dd if=/dev/vda of=/dev/null bs=4k count=1 skip=30 iflag=direct"):ok(), "outside the range")
  d:clear_policy()
  d:fail_after(2)
  t:assert_eq(d:fault_policy(), { fail_reads = false, fail_writes = false, fail_after = 2 })
  t:assert(dd(READ):ok(), "the first command passes")
  t:assert_contains(dd(READ).stdout, "Input/output error")
  d:clear_policy()
  d:delay(5)
  t:assert(dd(READ):ok(), "a slow disk still answers")
  d:clear_policy()
  t:assert(dd(READ):ok() and dd(WRITE):ok(), "served again")
  t:assert_eq(vm:run("cat /proc/sys/kernel/random/boot_id").stdout, boot)
  t:assert_contains(tostring(t:assert_raises(function() vm:disk("plain"):fail_reads() end)), "not mediated")
  t:assert_contains(tostring(t:assert_raises(function() d:fail_after(0) end)), "at least 1")
end)

test("a disk hot-plugged with mediated = true is mediated", function(t)
  local h = vm:attach_disk({ id = "hm", scratch = "1M", mediated = true })
  local dev = vm:run("for i in $(seq 100); do s=$(grep -lx hm /sys/block/vd*/serial) && break; sleep 0.1; done; b=\${s%/serial}; echo -n /dev/\${b##*/}"):assert_ok().stdout
  local read = "dd if=" .. dev .. " of=/dev/null bs=4k count=1 iflag=direct"
  t:assert(dd(read):ok(), "served")
  h:fail_reads()
  t:assert_contains(dd(read).stdout, "Input/output error")
  t:assert_eq(h:fault_policy(), { fail_reads = true, fail_writes = false })
  h:detach() -- unplugged, its server ends with it
  t:assert_contains(tostring(t:assert_raises(function() h:fault_policy() end)), 'disk "hm" is detached: its guest-visible policy ended with it')
  t:assert(dd("dd if=/dev/vda of=/dev/null bs=4k count=1 iflag=direct"):ok(), "the other mediated disk still serves")
end)

test("a power cut drops what the guest did not flush", function(t)
  local d = vm:disk("m")
  vm:run("printf kept | dd of=/dev/vda bs=512 seek=100 oflag=direct conv=fsync 2>/dev/null"):assert_ok()
  vm:run("printf lost | dd of=/dev/vda bs=512 seek=101 oflag=direct 2>/dev/null"):assert_ok()
  t:assert(d:power_cut() > 0, "some bytes were held")
  t:assert_eq(d:read_sectors(100, 1):sub(1, 4), "kept")
  t:assert_eq(d:read_sectors(101, 1):sub(1, 4), "\\0\\0\\0\\0")
end)

test("a snapshot of a mediated disk restores mediated, with its data", function(t)
  vm:run("printf snapped | dd of=/dev/vda bs=512 seek=200 oflag=direct conv=fsync 2>/dev/null"):assert_ok()
  local r = provium:vm("dmed2", "default"):restore(vm:snapshot())
  t:assert_eq(r:run("dd if=/dev/vda bs=512 skip=200 count=1 iflag=direct 2>/dev/null | head -c 7").stdout, "snapped")
  r:disk("m"):fail_reads()
  t:assert_contains(r:run(READ .. " 2>&1").stdout, "Input/output error")
end)
`;

function raw(file: string, size: number, head: string): void {
  const buf = Buffer.alloc(size);
  buf.write(head);
  writeFileSync(file, buf);
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'provium-disks-test-'));
  raw(path.join(dir, 'template.raw'), 2 * MiB, 'TEMPLATE');
  raw(path.join(dir, 'inplace.raw'), MiB, 'INPLACE');
  raw(path.join(dir, 'inplace2.raw'), MiB, 'INPLACE2');
  raw(path.join(dir, 'root.raw'), 4 * MiB, 'BASE');
  raw(path.join(dir, 'seed.raw'), 4096, 'SEED');
  before = { template: sha(path.join(dir, 'template.raw')), base: sha(path.join(dir, 'root.raw')), seed: sha(path.join(dir, 'seed.raw')) };
  const def = await resolveProfile('default');
  writeFileSync(path.join(dir, 'provium.toml'), [
    '[provium]', 'roots = ["."]', '',
    '[profiles.withdisk]', `kernel = ${JSON.stringify(def.kernel)}`, `initrd = ${JSON.stringify(def.initrd)}`, `cmdline = ${JSON.stringify(def.cmdline)}`, 'disk = "root.raw"', '',
  ].join('\n'));
  writeFileSync(path.join(dir, 'sources.test.lua'), SOURCES);
  writeFileSync(path.join(dir, 'root.test.lua'), ROOT);
  writeFileSync(path.join(dir, 'snapshots.test.lua'), SNAPSHOTS);
  writeFileSync(path.join(dir, 'resets.test.lua'), RESETS);
  writeFileSync(path.join(dir, 'mediated.test.lua'), MEDIATED);
  mkdirSync(path.join(dir, 'fixtures'));
  writeFileSync(path.join(dir, 'fixtures', 'disky.fixture.lua'), FIXTURE);
  const r = await execa('node', [CLI, 'test', '-j2', '--json', '--timeout-scale', '3', '.'], { cwd: dir, reject: false });
  events = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as RunEvent);
  stderr = r.stderr;
}, 300_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const result = (name: string) =>
  events.find((e): e is TestFailed => (e.event === 'test_passed' || e.event === 'test_failed') && e.test === name) as (RunEvent & { error?: { message: string } }) | undefined;

describe('disks on the default guest', () => {
  it.each([
    'boot disks come in order with their sizes, serials and read-only flags',
    "the guest's writes reach the disk's image; the host's writes reach the guest",
    'a template is copied: the guest sees it and writes only its copy; a path disk is written in place',
    'disk contents survive a reset of the guest',
    'a disk hot-plugged into the running guest appears; detached, it goes',
    'image with size: a private copy of that size, hot-plugged; a freed slot takes a disk of its own',
    'guest-visible faults on an unmediated disk: a bad value is named first, then mediation',
    "host-side faults hit the test's own sector calls only",
    'bad disk specs and ids are errors that name the disk',
    "each VM runs on its own overlay of the profile's root disk",
    'a snapshot keeps every disk; restores at once have independent disks',
    'vm:restore rolls the disks back',
    'a fixture with disks resumes with them, afresh in every test',
    'a fixture with disks, resumed again',
    "a fixture with disks, resumed a third time: the host's sector calls see the guest's disk",
    'second: reset_between_tests rolled the disk back',
    'a mediated disk shows every fault mode to the guest; clearing restores service without a reboot',
    'a disk hot-plugged with mediated = true is mediated',
    'a power cut drops what the guest did not flush',
    'a snapshot of a mediated disk restores mediated, with its data',
  ])('%s', (name) => {
    const e = result(name);
    expect(e?.event, `${JSON.stringify(e)}\n${stderr}`).toBe('test_passed');
  });

  it('never writes a template, an image given with a size or a base image; writes a path disk in place', () => {
    expect(sha(path.join(dir, 'template.raw'))).toBe(before.template);
    expect(sha(path.join(dir, 'seed.raw'))).toBe(before.seed);
    expect(sha(path.join(dir, 'root.raw'))).toBe(before.base);
    expect(readFileSync(path.join(dir, 'inplace2.raw')).subarray(0, 7).toString()).toBe('written');
    expect(readFileSync(path.join(dir, 'inplace.raw')).subarray(0, 7).toString()).toBe('INPLACE');
  });

  it('resumes a fixture with disks the second and third time from spares, with images of their own', () => {
    const spawned = events.filter((e) => e.event === 'vm_spawned' && (e as { vm?: string }).vm === 'fx') as { spare?: boolean }[];
    // The fixture's build (its first boot), the first resume (no spare yet), the second and third.
    expect(spawned.slice(-3).map((e) => e.spare === true)).toEqual([false, true, true]);
  });

  it('leaves no disk image of a VM behind', () => {
    const left = readdirSync(tmpdir()).filter((n) => ['dsk', 'dr1', 'dr2', 'dsnap', 'dsa', 'dsb', 'dsc', 'droll', 'dreset', 'fx', 'dmed', 'dmed2'].some((vm) => n.startsWith(`provium-disks-${vm}-`)));
    expect(left).toEqual([]);
  });
});
