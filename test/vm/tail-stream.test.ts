/**
 * Tail streams and fd streams (api-parity §3, §13), end to end on one real
 * default guest: a guest process appends at random moments while the test
 * reads; truncation, rotation, start positions, File streams, errors, and
 * the scope that closes them.
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

const TAILS = `
local vm = provium:vm("tails", "default"):boot()
local function err(fn) return tostring(select(2, pcall(fn))) end

test("tail_file reads what a guest process appends at random moments", function(t)
  vm:write_file("/tmp/svc.log", "old line\\n")
  local s = vm:tail_file("/tmp/svc.log")
  t:assert_eq({ vm:open_stream_count(), vm:is_quiescent() }, { 1, false })
  local p = vm:run_async("for i in 1 2 3 4 5 6; do sleep 0.$((RANDOM % 3)); echo line $i >> /tmp/svc.log; done; echo done >> /tmp/svc.log")
  t:assert_eq(s:read_until("line 1\\n", "30s"), "line 1\\n")
  t:assert_eq(s:expect("line 3\\n", "30s"), "line 3\\n")
  t:assert_eq(s:read_until("done\\n", "30s"), "line 4\\nline 5\\nline 6\\ndone\\n")
  t:assert_eq(p:wait("30s").exit_code, 0)
  -- bytes past a match are kept for the next read
  vm:run("printf 'first|second|third\\\\n' >> /tmp/svc.log")
  t:assert_eq(s:read_until("first|", "30s"), "first|")
  t:assert_eq(s:read_until("second|", "1s"), "second|")
  t:assert_eq(s:next("30s"), "third\\n")
  t:assert_eq(s:next("0.3s"), nil) -- nothing more in time: nil
  t:assert_eq(s:eof(), false)
  vm:run("echo unread >> /tmp/svc.log")
  s:close()
  t:assert_eq({ s:eof(), s:next(), #s:drain(), vm:open_stream_count() }, { true, nil, 0, 0 })
  t:assert_contains(err(function() s:read_until("x") end), "closed")
  s:close()
end)

test("start: end, beginning, offsets, bytes before the end, floats", function(t)
  vm:write_file("/tmp/start.log", "0123456789")
  local function first(opts)
    local s = vm:tail_file("/tmp/start.log", opts)
    local f = s:next("30s")
    s:close()
    return f
  end
  t:assert_eq(first({ start = "beginning" }), "0123456789")
  t:assert_eq(first({ start = "start" }), "0123456789")
  t:assert_eq(first({ start = 4 }), "456789")
  t:assert_eq(first({ start = -3 }), "789")
  t:assert_eq(first({ start = -50 }), "0123456789")
  t:assert_eq(first({ start = 2.9 }), "23456789")
  t:assert_eq(first({ start = -2.9 }), "89")
  local s = vm:tail_file("/tmp/start.log", { start = 99 }) -- past the end: at the end
  vm:run("echo appended >> /tmp/start.log")
  t:assert_eq(s:read_until("\\n", "30s"), "appended\\n")
  s:close()
end)

test("a truncated file is read from its start; a rotated one is read to its end, then the new one", function(t)
  vm:write_file("/tmp/rot.log", "")
  local s = vm:tail_file("/tmp/rot.log")
  vm:run("echo a-long-line-before >> /tmp/rot.log")
  s:expect("before\\n", "30s")
  vm:run("echo new > /tmp/rot.log") -- shorter than what was read: a truncation
  t:assert_eq(s:read_until("\\n", "30s"), "new\\n")
  vm:run("mv /tmp/rot.log /tmp/rot.log.1 && echo late-in-old >> /tmp/rot.log.1 && echo fresh > /tmp/rot.log")
  t:assert_eq(s:read_until("fresh\\n", "30s"), "late-in-old\\nfresh\\n")
  vm:run("echo after >> /tmp/rot.log")
  t:assert_eq(s:read_until("\\n", "30s"), "after\\n")
end)

test("fd_stream and file:tail_stream read on from a File's offset", function(t)
  vm:write_file("/tmp/fd.log", "head\\nbody\\n")
  local f = vm:open_file("/tmp/fd.log", "r")
  t:assert_eq(f:read(5), "head\\n")
  t:assert(f:fd() > 0, "an open File has an fd")
  local streams = { vm:fd_stream(f), vm:fd_stream(f:fd()), f:tail_stream() }
  t:assert_eq(vm:open_stream_count(), 3)
  vm:run("echo more >> /tmp/fd.log")
  for _, s in ipairs(streams) do t:assert_eq(s:read_until("more\\n", "30s"), "body\\nmore\\n") end
  t:assert_eq(f:tell(), 5)
  f:close()
  t:assert_eq(f:fd(), 0)
  t:assert_contains(err(function() vm:fd_stream(f) end), "closed")
  t:assert_contains(err(function() f:tail_stream() end), "closed")
  -- a pipe's stream ends when its writers are gone
  vm:run("rm -f /tmp/fifo; mkfifo /tmp/fifo")
  local w = vm:run_async("echo piped > /tmp/fifo")
  local pipe = vm:fd_stream(vm:open_file("/tmp/fifo", "r"))
  t:assert_eq(pipe:read_until("piped\\n", "30s"), "piped\\n")
  t:assert_eq(pipe:next("30s"), nil)
  t:assert_eq(pipe:eof(), true)
  w:wait("30s")
end)

test("bad arguments and missing files are named", function(t)
  t:assert_contains(err(function() vm:tail_file("/tmp/missing.log") end), "/tmp/missing.log")
  t:assert_contains(err(function() vm:tail_file("/tmp/missing.log") end), "No such file")
  t:assert_contains(err(function() vm:tail_file("/tmp/start.log", { start = "middle" }) end), '"beginning"')
  t:assert_contains(err(function() vm:tail_file("/tmp/start.log", { start = true }) end), "start")
  t:assert_contains(err(function() vm:tail_file("/tmp/start.log", "end") end), "opts")
  t:assert_contains(err(function() vm:tail_file(42) end), "path")
  t:assert_contains(err(function() vm:fd_stream(12345) end), "12345")
  t:assert_contains(err(function() vm:fd_stream("x") end), "fd_or_file")
  t:assert_contains(err(function() vm:console():write("x", { timeout_ms = 5 }) end), "timeout")
  t:assert_eq(vm:console():close(), nil)
end)

local kept
test("an open stream blocks snapshots and closes with its test", function(t)
  kept = vm:tail_file("/tmp/start.log", { start = "beginning" })
  local e = err(function() vm:snapshot() end)
  t:assert_contains(e, 'tail_file("/tmp/start.log") (opened at tails.test.lua:')
  t:assert_contains(e, 'in test "an open stream blocks snapshots')
  t:assert_contains(err(function() provium:snapshot() end), "streams open")
  t:assert_eq(vm:is_quiescent(), false)
end)

test("the next test finds it closed, in the guest too", function(t)
  t:assert_eq({ vm:open_stream_count(), kept:eof(), kept:next() }, { 0, true, nil })
  t:assert_eq(vm:run("ls -l /proc/*/fd 2>/dev/null | grep -c /tmp/start.log").stdout, "0\\n")
end)
`;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'provium-tails-'));
  writeFileSync(path.join(dir, 'tails.test.lua'), TAILS);
  const r = await execa('node', [CLI, 'test', '--json', '--timeout-scale', '3', '.'], { cwd: dir, reject: false });
  events = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as RunEvent);
  stderr = r.stderr;
}, 300_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const names = [...TAILS.matchAll(/^test\("([^"]+)"/gm)].map((m) => m[1]!);

it('runs every test of the file', () => {
  expect(names).toHaveLength(7);
  expect(events.filter((e) => e.event === 'test_passed' || e.event === 'test_failed'), stderr).toHaveLength(names.length);
});

it.each(names)('%s', (name) => {
  const e = events.find((x) => (x.event === 'test_passed' || x.event === 'test_failed') && x.test === name);
  expect(e?.event, JSON.stringify((e as TestFailed | undefined)?.error ?? e ?? stderr)).toBe('test_passed');
});
