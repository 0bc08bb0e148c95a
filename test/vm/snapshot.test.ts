/**
 * Snapshot, LabSnapshot and reset_between_tests from Lua, end to end: real
 * test files run by the built CLI on the real default guest.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { FileCompleted, RunEvent, TestFailed } from '@provium/types';

const CLI = path.resolve(__dirname, '../../runner/bin/provium.js');
let dir: string;
let events: RunEvent[];
let keep: string;
/** Where snap.test.lua writes the paths of the temporary snapshots it made, one a line. */
let tempRecord: string;

const SNAP = (keepDir: string, recordFile: string) => `
local vm = provium:vm("a", "default"):boot()
local function err(fn) return tostring(select(2, pcall(fn))) end
local function record(snap) io.open("${recordFile}", "a"):write(snap:path(), "\\n"):close() end

test("snapshot, change, restore; the VM runs on after a snapshot", function(t)
  vm:write_file("/root/state", "before")
  local snap = vm:snapshot()
  record(snap)
  t:assert(snap:size() > 0)
  t:assert_contains(tostring(snap), snap:path())
  t:assert_eq(vm:state(), "booted")
  t:assert_eq(vm:read_file("/root/state"), "before")
  vm:write_file("/root/state", "after")
  t:assert_eq(vm:restore(snap), vm)
  t:assert_eq(vm:read_file("/root/state"), "before")
  t:assert(math.abs(vm:clock():get() - os.time()) < 30, "the guest clock is set to now after a restore")
end)

test("a restored VM snapshots again, to an explicit path kept for a later process", function(t)
  vm:write_file("/root/state", "kept")
  local snap = vm:snapshot("${keepDir}/kept.snap")
  t:assert_eq(snap:path(), "${keepDir}/kept.snap")
  vm:write_file("/root/state", "lost")
  vm:restore("${keepDir}/kept.snap")
  t:assert_eq(vm:read_file("/root/state"), "kept")
end)

test("a paused VM stays paused across its snapshot", function(t)
  vm:pause()
  local snap = vm:snapshot()
  t:assert_eq(vm:state(), "paused")
  vm:resume()
  vm:restore(snap)
  t:assert_eq(vm:state(), "booted")
  snap:delete()
  snap:delete()
  t:assert_eq(snap:size(), 0)
end)

test("open streams block a snapshot, named with the line that opened them", function(t)
  local p = vm:run_async("sleep 30")
  local out = p:stdout_stream()
  local e = err(function() vm:snapshot() end)
  t:assert_contains(e, "streams open")
  t:assert_contains(e, '(opened at snap.test.lua:43, in test "open streams block a snapshot')
  out:close()
  p:kill()
  vm:snapshot():delete()
end)

test("bad paths say what is wrong", function(t)
  t:assert_contains(err(function() vm:snapshot("/no/such/dir/x.snap") end), "directory /no/such/dir does not exist")
  t:assert_contains(err(function() vm:restore("/etc/hostname") end), "is not a Provium snapshot")
  t:assert_contains(err(function() vm:restore("/no/such.snap") end), "cannot be opened: ENOENT")
end)

test("lab snapshot: one file per VM plus lab.json; restore in place", function(t)
  local ls = provium:snapshot()
  record(ls)
  local files = {}
  for name in io.popen("ls " .. ls:path()):lines() do files[#files + 1] = name end
  t:assert_eq(files, { "a.snap", "lab.json" })
  t:assert(ls:size() > 0)
  local index = io.open(ls:path() .. "/lab.json"):read("a")
  t:assert_contains(index, '"file": "a.snap"')
  vm:write_file("/root/state", "changed")
  provium:restore(ls)
  t:assert_eq(vm:read_file("/root/state"), "kept")
  ls:delete()
  t:assert_eq(ls:size(), 0)
end)
`;

const RESET = `
provium.reset_between_tests = true
local vm = provium:vm("r", "default"):boot()
vm:write_file("/root/count", "0")

test("first test changes the guest", function(t)
  t:assert_eq(vm:read_file("/root/count"), "0")
  vm:write_file("/root/count", "1")
end)

test("second test sees the state after the top-level code", function(t)
  t:assert_eq(vm:read_file("/root/count"), "0")
  vm:write_file("/root/count", "2")
end)

test("and so does the third", function(t)
  t:assert_eq(vm:read_file("/root/count"), "0")
end)
`;

const LATER = (keepDir: string) => `
test("a snapshot written by an earlier process restores", function(t)
  local vm = provium:vm("b", "default")
  vm:restore("${keepDir}/kept.snap")
  t:assert_eq(vm:state(), "booted")
  t:assert_eq(vm:read_file("/root/state"), "kept")
end)
`;

/** The CLI's own temp dir, so what it leaves there is seen apart from other processes. */
let tmp: string;

async function runCli(cwd: string): Promise<RunEvent[]> {
  const r = await execa('node', [CLI, 'test', '-j2', '--json', '--timeout-scale', '3', '.'], { cwd, reject: false, env: { TMPDIR: tmp } });
  return r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as RunEvent);
}

const completed = (evs: RunEvent[], file: string) => evs.find((e): e is FileCompleted => e.event === 'file_completed' && e.file === file);
const failures = (evs: RunEvent[]) => evs.filter((e): e is TestFailed => e.event === 'test_failed').map((e) => `${e.test}: ${e.error.message}`);

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'provium-snap-'));
  tmp = mkdtempSync(path.join(tmpdir(), 'provium-tmp-'));
  keep = mkdtempSync(path.join(tmpdir(), 'provium-keep-'));
  tempRecord = path.join(dir, 'temp-snapshots.txt');
  writeFileSync(path.join(dir, 'snap.test.lua'), SNAP(keep, tempRecord));
  writeFileSync(path.join(dir, 'reset.test.lua'), RESET);
  events = await runCli(dir);
}, 300_000);

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(keep, { recursive: true, force: true });
  rmSync(tmp, { recursive: true, force: true });
});

it('vm:snapshot, vm:restore, Snapshot methods and lab snapshots work from Lua', () => {
  expect(failures(events)).toEqual([]);
  expect(completed(events, 'snap.test.lua')).toMatchObject({ status: 'passed', passed: 6 });
});

it('provium.reset_between_tests restores the lab before every test after the first', () => {
  expect(completed(events, 'reset.test.lua')).toMatchObject({ status: 'passed', passed: 3 });
});

it('temporary snapshots are gone when their file ends; an explicit path stays', () => {
  // snap.test.lua made a VM and a lab snapshot without a path: in the CLI's temp dir, gone now
  const made = readFileSync(tempRecord, 'utf8').trim().split('\n');
  expect(made).toHaveLength(2);
  for (const p of made) {
    expect(path.relative(tmp, p)).toMatch(/^provium-snapshots-\w+\/(a-1\.snap|lab-1)$/);
    expect(existsSync(p)).toBe(false);
  }
  expect(readdirSync(tmp).filter((n) => n.startsWith('provium-snapshots-'))).toEqual([]);
  expect(existsSync(path.join(keep, 'kept.snap'))).toBe(true);
  expect(readdirSync(keep)).toEqual(['kept.snap']);
  expect(readFileSync(path.join(keep, 'kept.snap')).subarray(0, 8).toString()).toBe('PROVSNAP');
});

it('a snapshot on disk is restored by a later process', async () => {
  const later = mkdtempSync(path.join(tmpdir(), 'provium-later-'));
  try {
    writeFileSync(path.join(later, 'later.test.lua'), LATER(keep));
    const evs = await runCli(later);
    expect(failures(evs)).toEqual([]);
    expect(completed(evs, 'later.test.lua')).toMatchObject({ status: 'passed', passed: 1 });
  } finally {
    rmSync(later, { recursive: true, force: true });
  }
}, 120_000);
