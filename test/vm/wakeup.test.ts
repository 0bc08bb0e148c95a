/**
 * vm:wakeup() (api-parity §3) on real guests that suspend themselves to RAM
 * (`echo mem > /sys/power/state`): a VM booted as a bzImage resumes with its
 * tmpfs and uptime intact; the default PVH boot resets instead, which must
 * raise naming kernel_format, never hang. One VM per Lua file; the two files
 * run side by side.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RunEvent, TestFailed } from '@provium/types';

const CLI = path.resolve(__dirname, '../../runner/bin/provium.js');
let dir: string;
let events: RunEvent[];
let stderr: string;

const RESUMES = `
local vm = provium:vm("sleeper", "default", { kernel_format = "bzimage" }):boot()
local function err(fn) return tostring(select(2, pcall(fn))) end
local function uptime() return tonumber(vm:run("cut -d' ' -f1 /proc/uptime").stdout:match("[%d.]+")) end

test("a guest that suspended itself resumes with vm:wakeup()", function(t)
  vm:write_file("/tmp/marker", "before-s3")
  local before = uptime()
  local p = vm:run_async("echo mem > /sys/power/state")
  wait_until(function() return vm:state() == "suspended" end, { timeout = "60s", desc = "the guest to suspend" })
  t:assert_contains(err(function() vm:run("true") end), "suspended to RAM (it suspended itself): call vm:wakeup() first")
  t:assert_contains(err(function() vm:reset() end), "call vm:wakeup() before vm:reset()")
  vm:pause()
  t:assert_eq(vm:state(), "paused")
  vm:resume() -- back to sleep, not running
  t:assert_eq(vm:state(), "suspended")
  vm:wakeup()
  t:assert_eq(vm:state(), "booted")
  t:assert_eq(vm:read_file("/tmp/marker"), "before-s3")
  t:assert(uptime() > before, "uptime continues")
  t:assert_eq(p:wait("30s").exit_code, 0)
end)

test("wakeup does nothing to an awake guest, raises on a paused or created VM", function(t)
  vm:wakeup()
  t:assert_eq({ vm:state(), vm:run("echo awake").stdout }, { "booted", "awake\\n" })
  vm:pause()
  t:assert_contains(err(function() vm:wakeup() end), "is paused: call vm:resume()")
  vm:resume()
  t:assert_contains(err(function() provium:vm("later", "default"):wakeup() end), "VM not booted")
  t:assert_contains(err(function() provium:vm("odd", "default", { kernel_format = "zImage" }) end), 'kernel_format must be "pvh" or "bzimage"; got "zImage"')
end)
`;

const RESETS = `
local vm = provium:vm("pvh", "default"):boot()

test("a PVH-booted guest resets on wakeup, which raises naming kernel_format", function(t)
  vm:run_async("echo mem > /sys/power/state")
  wait_until(function() return vm:state() == "suspended" end, { timeout = "60s", desc = "the guest to suspend" })
  local ok, e = pcall(function() vm:wakeup() end)
  t:assert_eq(ok, false)
  t:assert_contains(tostring(e), "cannot resume from S3")
  t:assert_contains(tostring(e), 'kernel_format = "bzimage"')
  t:assert_eq(vm:state(), "dead")
end)
`;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'provium-wakeup-'));
  writeFileSync(path.join(dir, 'resumes.test.lua'), RESUMES);
  writeFileSync(path.join(dir, 'resets.test.lua'), RESETS);
  const r = await execa('node', [CLI, 'test', '--json', '--timeout-scale', '3', '.'], { cwd: dir, reject: false });
  events = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as RunEvent);
  stderr = r.stderr;
}, 300_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const names = [...`${RESUMES}${RESETS}`.matchAll(/^test\("([^"]+)"/gm)].map((m) => m[1]!);

it('runs every test of both files', () => {
  expect(names).toHaveLength(3);
  expect(events.filter((e) => e.event === 'test_passed' || e.event === 'test_failed'), stderr).toHaveLength(names.length);
});

it.each(names)('%s', (name) => {
  const e = events.find((x) => (x.event === 'test_passed' || x.event === 'test_failed') && x.test === name);
  expect(e?.event, JSON.stringify((e as TestFailed | undefined)?.error ?? e ?? stderr)).toBe('test_passed');
});
