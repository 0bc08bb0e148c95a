/**
 * A guest that floods the host, or whose agent dies, as a hostile user would
 * write it: real Lua files run by the built CLI on the default guest. The run
 * must stay within its memory bounds, every test gets a clear result, and the
 * next test runs.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunEvent } from '@provium/types';

const CLI = path.resolve(__dirname, '../../runner/bin/provium.js');
const MiB = 1024 * 1024;
let dir: string;
let events: RunEvent[];
let stderr: string;
/** The provium process's peak resident set (VmHWM), as last read while it ran. */
let peakRssKiB = 0;

const FLOOD = `
local vm = provium:vm("flood", "default"):boot()

test("a process whose output nobody reads keeps 16 MiB of it, and says so", function(t)
  local p = vm:run_async("cat /dev/zero")
  vm:run("sleep 6") -- meanwhile the host reads and drops what the guest writes
  p:kill("kill")
  local r = p:wait("30s")
  t:assert_eq(#r.stdout, 16 * 1024 * 1024)
  t:assert_eq(r.truncated, true)
  t:assert_eq(vm:run_async("echo small"):wait("30s").truncated, false)
end)

test("an opened stream nobody reads says what it dropped, then reads on", function(t)
  local p = vm:run_async("cat /dev/zero")
  local s = p:stdout_stream()
  vm:run("sleep 6")
  t:assert_contains(tostring(t:assert_raises(function() s:next() end)), "bytes were dropped unread")
  local chunk = s:next()
  t:assert(#chunk > 0 and #chunk <= 1024 * 1024, "one chunk is at most 1 MiB: " .. #chunk)
  s:close()
  p:kill("kill")
  p:wait("30s")
end)

test("file:read_all stops at 64 MiB as vm:read_file does", function(t)
  vm:run("dd if=/dev/zero of=/tmp/big bs=1M count=0 seek=100 2>/dev/null"):assert_ok()
  local f = vm:open_file("/tmp/big", "r")
  t:assert_contains(tostring(t:assert_raises(function() f:read_all() end)), "/tmp/big has more than 67108864 bytes")
  f:seek(-10, "end")
  t:assert_eq(#f:read_all(), 10)
  f:close()
end)

test("an agent killed in the middle of a command: the command says so, and the VM answers again", function(t)
  local err = t:assert_raises(function() vm:run("kill -9 $(pidof provium-agent); sleep 30") end)
  t:assert_contains(tostring(err), "the guest agent exited or was killed")
  wait_until(function() return pcall(vm.run, vm, "true") end, { timeout = "60s", desc = "the restarted agent" })
  t:assert_eq(vm:run("echo back"):assert_ok().stdout, "back\\n")
end)

test("the next test runs", function(t)
  t:assert_eq(vm:run("echo fine").stdout, "fine\\n")
end)
`;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'provium-faults-output-'));
  writeFileSync(path.join(dir, 'flood.test.lua'), FLOOD);
  const child = execa('node', [CLI, 'test', '-j1', '--json', '--timeout-scale', '3', '.'], { cwd: dir, reject: false });
  const poll = setInterval(() => {
    try {
      const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      if (hwm) peakRssKiB = Number(hwm[1]);
    } catch {
      // exited
    }
  }, 100);
  const r = await child;
  clearInterval(poll);
  events = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as RunEvent);
  stderr = r.stderr;
}, 300_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a guest that floods the host or loses its agent', () => {
  it.each([
    'a process whose output nobody reads keeps 16 MiB of it, and says so',
    'an opened stream nobody reads says what it dropped, then reads on',
    'file:read_all stops at 64 MiB as vm:read_file does',
    'an agent killed in the middle of a command: the command says so, and the VM answers again',
    'the next test runs',
  ])('%s', (name) => {
    const e = events.find((x) => (x.event === 'test_passed' || x.event === 'test_failed') && x.test === name);
    expect(e?.event, `${JSON.stringify(e)}\n${stderr}`).toBe('test_passed');
  });

  it('keeps the run under 1 GiB of memory while the guest floods it', () => {
    expect(peakRssKiB).toBeGreaterThan(0);
    expect(peakRssKiB * 1024).toBeLessThan(1024 * MiB);
  });
});
