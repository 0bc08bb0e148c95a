/**
 * vm:syscall, vm:syscall_async, vm:ioctl and vm:read_mem end to end: a real
 * Lua file run by the built CLI against one default guest under QEMU (one
 * boot, shared by every test), with a fuzz of 10,000 random calls at the end.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunEvent, TestPassed } from '@provium/types';

const CLI = path.resolve(__dirname, '../../runner/bin/provium.js');

const LUA = String.raw`
provium.timeout = "4m" -- the fuzz alone takes ~25 s with other VMs running
local vm = provium:vm("s", "default", { memory = "192M" })
vm:boot()

local function err(fn, ...) local ok, e = pcall(fn, ...); return ok and "no error" or tostring(e) end
local function agent_pid() return tonumber(vm:run("echo $PPID").stdout) end

test("getpid is the agent's pid", function(t)
  local pid = agent_pid()
  t:assert_eq(vm:run("cat /proc/" .. pid .. "/comm").stdout, "provium-agent\n")
  local r = vm:syscall(39)
  t:assert_eq({ r.ret, r.result, r.errno, #r.out_bufs }, { pid, pid, 0, 0 })
end)

test("write a file through a descriptor, read it back into an out buffer", function(t)
  local path = "/tmp/sc.txt\0"
  local fd = vm:syscall(257, { args = { -100, 0, 0x242, 420 }, bufs = { path }, ptrs = { 1 } }).ret -- openat(AT_FDCWD, path, O_RDWR|O_CREAT|O_TRUNC, 0644)
  t:assert(fd > 2, "openat returns a descriptor")
  t:assert_eq(vm:syscall(1, { args = { fd, 0, 5 }, bufs = { "hello" }, ptrs = { 1 } }).ret, 5)
  t:assert_eq(vm:syscall(8, fd, 0, 0).ret, 0) -- lseek(fd, 0, SEEK_SET)
  local r = vm:syscall(0, { args = { fd, 0, 5 }, bufs = { 5 }, ptrs = { 1 } })
  t:assert_eq({ r.ret, r.out_bufs[1] }, { 5, "hello" })
  t:assert_eq(vm:syscall(3, fd).ret, 0)
  t:assert_eq(vm:read_file("/tmp/sc.txt"), "hello")
  -- a buffer shorter than the kernel writes: EFAULT, not a corrupted agent
  local short = vm:syscall(63, { bufs = { 8 }, ptrs = { 0 } })
  t:assert_eq({ short.ret, short.errno }, { -1, 14 })
end)

test("uname into an out buffer, and a struct that points at another buffer", function(t)
  local r = vm:syscall(63, { bufs = { 390 }, ptrs = { 0 } })
  t:assert_eq(r.ret, 0)
  t:assert_eq(r.out_bufs[1]:sub(1, 6), "Linux\0")
  t:assert_eq(r.out_bufs[1]:sub(66, 67), "s\0") -- nodename: the VM's name
  -- writev(fd, iov, 1): iov = {base = bufs[2], len = 3}, the base written by nested
  local fd = vm:syscall(257, { args = { -100, 0, 0x241, 420 }, bufs = { "/tmp/iov\0" }, ptrs = { 1 } }).ret
  local iov = string.rep("\0", 8) .. string.pack("<i4i4", 3, 0)
  local w = vm:syscall(20, { args = { fd, 0, 1 }, bufs = { iov, "abc" }, ptrs = { 1 }, nested = { { parent = 1, child = 2, offset = 0 } } })
  t:assert_eq(w.ret, 3)
  vm:syscall(3, fd)
  t:assert_eq(vm:read_file("/tmp/iov"), "abc")
end)

test("a failing call returns its errno; refused calls raise and say why", function(t)
  local r = vm:syscall(3, -1)
  t:assert_eq({ r.ret, r.errno }, { -1, 9 })
  t:assert_eq(vm:syscall(100000).errno, 38)
  t:assert_contains(err(vm.syscall, vm, 60, 0), "exit is refused")
  t:assert_contains(err(vm.syscall, vm, 57), "fork is refused")
  t:assert_contains(err(vm.syscall, vm, 3, 0), "one of the agent's own")
  t:assert_contains(err(vm.syscall, vm, 62, 1, 15), "init")
  t:assert_contains(err(vm.syscall, vm, 11, 4096 * 16, 4096), "not inside a mapping")
  local paused = vm:syscall(34, { timeout = "200ms" }) -- pause(): interrupted at its timeout
  t:assert_eq({ paused.ret, paused.errno }, { -1, 4 })
  t:assert_eq(vm:run("true").exit_code, 0)
end)

test("ioctl on an open File", function(t)
  vm:write_file("/tmp/ten", "0123456789")
  local f = vm:open_file("/tmp/ten", "r")
  f:read(3)
  t:assert(f:fd() > 0, "file:fd() is the agent's handle id")
  local r = vm:ioctl(f:fd(), 0x541B, string.rep("\0", 4)) -- FIONREAD: bytes left to read
  t:assert_eq({ r.ret, (string.unpack("<i4", r.out_data)) }, { 0, 7 })
  local b = vm:ioctl(f:fd(), 0x541B, string.rep("\0", 8), { bufs = { "abcdefgh" }, ptr_offsets = { 0 } }) -- the answer's out_bufs are the extra buffers alone
  t:assert_eq({ b.ret, (string.unpack("<i4", b.out_data)), b.out_bufs }, { 0, 7, { "abcdefgh" } })
  t:assert_contains(err(vm.ioctl, vm, f:fd(), 0x5401, string.rep("\0", 60)), "ENOTTY") -- TCGETS on a plain file
  t:assert_contains(err(vm.ioctl, vm, f:fd(), 0x541B, "\0\0\0\0", { bufs = { 8 }, ptr_offsets = { 2 } }), "ptr_offsets[1]")
  f:close()
  t:assert_eq(f:fd(), 0)
  t:assert_contains(err(vm.ioctl, vm, 9999, 0x541B), "no open file handle 9999")
end)

test("read_mem reads the agent's memory; an unmapped range is nil and errno", function(t)
  local addr = vm:syscall(9, 0, 4096, 3, 0x22, -1, 0).ret -- mmap(NULL, 4096, RW, PRIVATE|ANONYMOUS)
  t:assert(addr > 65536, "mmap returns an address")
  t:assert_eq(vm:syscall(63, addr).ret, 0) -- uname() into the page
  t:assert_eq(vm:read_mem(addr, 6), "Linux\0")
  t:assert_eq(vm:read_mem(addr, 0), "")
  t:assert_eq(vm:syscall(11, addr, 4096).ret, 0)
  t:assert_eq({ vm:read_mem(addr, 6) }, { nil, 14 })
  t:assert_eq({ vm:read_mem(4096, 8) }, { nil, 14 })
  t:assert_eq({ vm:read_mem(addr, 64 * 1024 * 1024 + 1) }, { nil, 22 })
end)

test("every argument error names the argument", function(t)
  t:assert_contains(err(vm.syscall, vm, "x"), "'nr'")
  t:assert_contains(err(vm.syscall, vm), "'nr'")
  t:assert_contains(err(vm.syscall, vm, 39, 0 / 0), "a1 must be a finite number")
  t:assert_contains(err(vm.syscall, vm, 39, { argz = {} }), "unknown field 'argz'")
  t:assert_contains(err(vm.syscall, vm, 39, { bufs = { {} } }), "bufs")
  t:assert_contains(err(vm.syscall, vm, 39, { args = { 1, 0 / 0 } }), "args[2]")
  t:assert_contains(err(vm.syscall, vm, 39, { bufs = { 4 }, ptrs = { 6 } }), "ptrs[1]")
  t:assert_contains(err(vm.syscall, vm, 39, { bufs = { 4, 4 }, ptrs = { 0, 0 } }), "ptrs[2]")
  t:assert_contains(err(vm.syscall, vm, 39, { bufs = { 4 }, ptrs = { 0, 1 } }), "2 ptrs for 1 bufs")
  t:assert_contains(err(vm.syscall, vm, 39, { bufs = { 8 }, nested = { { parent = 1, child = 3, offset = 0 } } }), "nested[1].child")
  t:assert_contains(err(vm.syscall, vm, 39, { bufs = { 8, 1 }, nested = { { parent = 1, child = 2, offset = 4 } } }), "nested[1].offset")
  t:assert_contains(err(vm.syscall, vm, 39, { bufs = { 17 * 1024 * 1024 } }), "bufs[1]")
  t:assert_contains(err(vm.syscall, vm, 39, { timeout = "5x" }), "timeout")
  t:assert_contains(err(vm.syscall, vm, 39, { timeout = 61 }), "timeout_ms")
  t:assert_contains(err(vm.ioctl, vm, "x", 1), "'fd'")
  t:assert_contains(err(vm.read_mem, vm, -1, 4), "addr")
  t:assert_contains(err(vm.read_mem, vm, 4096, -1), "len")
end)

test("syscall_async keeps a blocking call in flight while the test works", function(t)
  local fds = vm:syscall(293, { args = { 0, 0 }, bufs = { 8 }, ptrs = { 0 } }) -- pipe2
  local rfd, wfd = string.unpack("<i4i4", fds.out_bufs[1])
  local h = vm:syscall_async(0, { args = { rfd, 0, 5 }, bufs = { 5 }, ptrs = { 1 } }) -- read blocks on the empty pipe
  t:assert_eq(vm:run("echo busy").stdout, "busy\n")
  t:assert_eq(vm:syscall(1, { args = { wfd, 0, 5 }, bufs = { "hello" }, ptrs = { 1 } }).ret, 5)
  local r = h:await()
  t:assert_eq({ r.ret, r.out_bufs[1] }, { 5, "hello" })
  t:assert_contains(err(h.await, h), "already awaited")
  t:assert_contains(err(function() return vm:syscall_async(60):await() end), "exit is refused")
  vm:syscall(3, rfd)
  vm:syscall(3, wfd)
  _G.left = vm:syscall_async(34) -- pause(), never awaited: interrupted when this test ends
end)

test("an async call left in flight ends with its test", function(t)
  local tasks = "ls /proc/" .. agent_pid() .. "/task | wc -l"
  wait_until(function() return vm:run(tasks).stdout == "1\n" end, { timeout = 10, desc = "the agent's threads end" })
  t:assert_contains(err(_G.left.await, _G.left), "no error")
end)

test("fuzz: 10,000 random calls, and the agent still serves", function(t)
  local pid = vm:syscall(39).ret
  local fds_before = tonumber(vm:run("ls /proc/$PPID/fd | wc -l").stdout)
  math.randomseed(17)
  local common = { 0, 1, 2, 3, 4, 5, 8, 9, 10, 11, 12, 13, 14, 16, 17, 20, 21, 22, 25, 28, 32, 33, 34, 35, 39, 56, 57, 59, 60, 61, 62, 63,
    72, 79, 83, 89, 96, 101, 102, 157, 158, 186, 200, 202, 228, 231, 234, 257, 262, 293, 302, 317, 318, 435 }
  local ints = { 0, 1, -1, 2, 3, 4, 7, 8, 9, 15, 64, 4096, 65536, 2147483647, -2147483648, -100 }
  local function rint()
    local k = math.random(10)
    if k <= 5 then return ints[math.random(#ints)] end
    if k <= 8 then return math.random(0, 2147483647) end
    return (k == 9 and 1 or -1) * math.random() * 2 ^ 63
  end
  local function rnr()
    local k = math.random(10)
    if k <= 5 then return common[math.random(#common)] end
    if k <= 9 then return math.random(0, 460) end
    return math.random(0, 2147483647)
  end
  -- random buffers made once: building them per call costs more than the calls (fengari)
  local pool = {}
  for i = 1, 64 do
    if i % 2 == 0 then pool[i] = math.random(0, 512) else
      local b = {}
      for k = 1, math.random(0, 48) do b[k] = string.char(math.random(0, 255)) end
      pool[i] = table.concat(b)
    end
  end
  local function spec()
    local s = { args = {}, bufs = {}, ptrs = {}, nested = {}, timeout = 0.05 }
    for i = 1, 6 do s.args[i] = rint() end
    if math.random(4) > 1 then return s end -- one call in four with buffers
    for i = 1, math.random(0, 3) do s.bufs[i] = pool[math.random(64)] end
    local slots = { 0, 1, 2, 3, 4, 5 }
    for i = 1, math.random(0, #s.bufs) do
      local j = math.random(i, 6)
      slots[i], slots[j] = slots[j], slots[i]
      s.ptrs[i] = math.random(20) == 1 and 6 or slots[i]
    end
    if #s.bufs > 0 and math.random(4) == 1 then
      s.nested[1] = { parent = math.random(#s.bufs), child = math.random(#s.bufs + 1), offset = math.random(0, 16) }
    end
    return s
  end
  local calls, results, refused, rejected = 0, 0, 0, 0
  while calls < 10000 do
    local inflight = {}
    for _ = 1, math.min(64, 10000 - calls) do -- 64: the most the agent runs at once
      inflight[#inflight + 1] = vm:syscall_async(rnr(), spec())
      calls = calls + 1
    end
    for _, h in ipairs(inflight) do
      local ok, r = pcall(h.await, h)
      if ok then results = results + 1
      elseif tostring(r):find("refused") then refused = refused + 1
      else rejected = rejected + 1 end
    end
  end
  -- and some on the agent's main thread
  for _ = 1, 500 do
    local ok, r = pcall(vm.syscall, vm, rnr(), spec())
    if ok then results = results + 1 elseif tostring(r):find("refused") then refused = refused + 1 else rejected = rejected + 1 end
    calls = calls + 1
  end
  t:log(string.format("fuzz: %d calls: %d results, %d refused, %d rejected arguments; agent fds %d before, %s after",
    calls, results, refused, rejected, fds_before, vm:run("ls /proc/$PPID/fd | wc -l").stdout:gsub("%s", "")))
  t:assert(results > 5000 and refused > 100 and rejected > 100, "the fuzz reached all three outcomes")
  t:assert_eq(vm:run("true").exit_code, 0)
  t:assert_eq(vm:state(), "booted")
  t:assert_eq(vm:syscall(39).ret, pid, "the same agent process serves")
end)
`;

let dir: string;
let events: RunEvent[];
let stderr: string;
let seconds: number;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'provium-syscall-'));
  writeFileSync(path.join(dir, 'syscall.test.lua'), LUA);
  const started = Date.now();
  const r = await execa('node', [CLI, 'test', '--json', '.'], { cwd: dir, reject: false });
  seconds = (Date.now() - started) / 1000;
  events = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as RunEvent);
  stderr = r.stderr;
}, 300_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const result = (test: string) => events.find((e) => 'test' in e && e.test === test && e.event !== 'test_started');

describe('system calls into the guest kernel', () => {
  it.each([
    "getpid is the agent's pid",
    'write a file through a descriptor, read it back into an out buffer',
    'uname into an out buffer, and a struct that points at another buffer',
    'a failing call returns its errno; refused calls raise and say why',
    'ioctl on an open File',
    "read_mem reads the agent's memory; an unmapped range is nil and errno",
    'every argument error names the argument',
    'syscall_async keeps a blocking call in flight while the test works',
    'an async call left in flight ends with its test',
    'fuzz: 10,000 random calls, and the agent still serves',
  ])('%s', (name) => {
    const e = result(name);
    expect(e?.event, `${JSON.stringify(e)}\n${stderr}`).toBe('test_passed');
  });

  it('reports the fuzz', () => {
    const passed = result('fuzz: 10,000 random calls, and the agent still serves') as TestPassed;
    const line = passed.log.join('').trim();
    expect(line).toMatch(/^fuzz: 10500 calls: /);
    console.log(`${line}; fuzz test ${(passed.duration_ms / 1000).toFixed(1)} s, the whole file ${seconds.toFixed(1)} s`);
  });
});
