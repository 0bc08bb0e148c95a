/**
 * Workers (the sheet's §4) end to end on the real default guest: one VM for
 * the whole file, whose tests spawn workers with other credentials and check
 * what their commands can do, how a worker's death and join are reported, and
 * that the end of a scope leaves no worker process in the guest.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RunEvent } from '@provium/types';

const CLI = path.resolve(__dirname, '../../runner/bin/provium.js');
let dir: string;
let events: RunEvent[];

const WORKERS = `
local vm = provium:vm("w", "default"):boot()
local function err(fn) return tostring(select(2, pcall(fn))) end
local seen = {}

test("a worker acts with its own uid, gid and groups", function(t)
  local w = vm:spawn_worker({ uid = 1000 })
  t:assert(w:handle() > 0, "handle is a positive id")
  t:assert_eq(w:run("id -u").stdout, "1000\\n")
  t:assert_eq(w:run("id -g").stdout, "1000\\n")
  t:assert_eq(vm:run("id -u").stdout, "0\\n")
  w:run("echo mine > /tmp/by-worker"):assert_ok()
  t:assert_eq(vm:run("stat -c %u:%g /tmp/by-worker").stdout, "1000:1000\\n")
  vm:run("echo secret > /tmp/root-only && chmod 600 /tmp/root-only"):assert_ok()
  local r = w:run("cat", { "/tmp/root-only" })
  t:assert_eq(r.exit_code, 1)
  t:assert_contains(r.stderr, "Permission denied")
  r = w:run("echo x > /tmp/root-only")
  t:assert(r.exit_code ~= 0, "writing a root-only file fails")
  t:assert_contains(r.stderr, "Permission denied")
  t:assert_eq(vm:read_file("/tmp/root-only"), "secret\\n")
  local g = vm:spawn_worker({ uid = 1000, gid = 100, groups = { 5, 7 } })
  t:assert_eq(g:run("id -G").stdout, "100 5 7\\n")
end)

test("a worker keeps exactly the capabilities it is given, and has the namespaces it asks for", function(t)
  local function capeff(w) return w:run("grep CapEff /proc/self/status"):assert_ok().stdout:match("(%x+)%s*$") end
  t:assert_eq(capeff(vm:spawn_worker({ uid = 1000 })), "0000000000000000")
  t:assert_eq(capeff(vm:spawn_worker({ uid = 1000, caps = { "net_raw", "CAP_CHOWN" } })), "0000000000002001")
  -- root without dac_override cannot read a file of another user's
  vm:run("echo u > /tmp/user-only && chown 1000 /tmp/user-only && chmod 600 /tmp/user-only"):assert_ok()
  local root = vm:spawn_worker({ caps = { "chown" } })
  t:assert_eq(root:run("id -u").stdout, "0\\n")
  t:assert_contains(root:run("cat /tmp/user-only").stderr, "Permission denied")
  t:assert_eq(vm:run("cat /tmp/user-only").stdout, "u\\n")
  local ns = vm:spawn_worker({ unshare = { "uts", "net" } })
  ns:run("hostname elsewhere"):assert_ok()
  t:assert_eq(ns:run("hostname").stdout, "elsewhere\\n")
  t:assert(vm:run("hostname").stdout ~= "elsewhere\\n", "the VM keeps its hostname")
  t:assert(ns:run("readlink /proc/self/ns/net").stdout ~= vm:run("readlink /proc/self/ns/net").stdout, "a network namespace of its own")
  t:assert_contains(err(function() vm:spawn_worker({ caps = { "net_admn" } }) end), "caps")
  t:assert_contains(err(function() vm:spawn_worker({ unshare = { "pid" } }) end), "unshare")
end)

test("a worker keeps its process, directory and environment between calls", function(t)
  local w = vm:spawn_worker({ uid = 65534, cwd = "/tmp", env = { GREETING = "hi" } })
  local parent = w:run("echo $PPID").stdout
  t:assert_eq(w:run("echo $PPID").stdout, parent)
  t:assert(vm:run("echo $PPID").stdout ~= parent, "the worker is not the main agent")
  t:assert_eq(w:run("pwd").stdout, "/tmp\\n")
  t:assert_eq(w:run("echo $GREETING").stdout, "hi\\n")
  t:assert_eq(vm:run("echo $GREETING").stdout, "\\n")
  -- a uid with an /etc/passwd entry gets its group and its HOME and USER
  t:assert_eq(w:run("echo $(id -g) $USER $HOME").stdout, "65534 nobody /nonexistent\\n")
  t:assert_eq(w:run("pwd", { cwd = "/" }).stdout, "/\\n")
end)

test("run_async through a worker: wait, kill, stdin, timeout", function(t)
  local w = vm:spawn_worker({ uid = 1000 })
  local r = w:run_async("echo out; echo err >&2; exit 3"):wait()
  t:assert_eq(r.exit_code, 3)
  t:assert_eq(r.stdout, "out\\n")
  t:assert_eq(r.stderr, "err\\n")
  local p = w:run_async("sleep 100")
  t:assert_eq(p:status(), "running")
  t:assert_eq(vm:run("stat -c %u /proc/" .. p:pid()).stdout, "1000\\n")
  t:assert_contains(err(function() p:stdout_stream() end), "worker")
  p:kill("KILL")
  r = p:wait()
  t:assert_eq(r.status, "signalled")
  t:assert_eq(r.signal, 9)
  local c = w:run_async("cat")
  c:stdin_write("abc")
  c:close_stdin()
  t:assert_eq(c:wait().stdout, "abc")
  t:assert(w:run_async("sleep 100"):wait(0.5).timed_out, "wait's timeout kills it")
  t:assert_contains(err(function() w:run_async("true", { timeout = 1 }) end), "process:wait")
end)

test("join returns the exit status and is terminal; kill signals the worker", function(t)
  local w = vm:spawn_worker()
  local left = w:run_async("sleep 100")
  t:assert_eq(w:join(), 0)
  t:assert_contains(err(function() left:wait() end), "can no longer be reached")
  vm:run("kill " .. left:pid()):assert_ok()
  t:assert_contains(err(function() w:run("true") end), "joined")
  t:assert_contains(err(function() w:join() end), "joined")
  w:close()
  local k = vm:spawn_worker()
  k:kill(9)
  t:assert_eq(k:join(), 137)
  local term = vm:spawn_worker()
  term:kill()
  t:assert_eq(term:join(), 143)
  t:assert_contains(err(function() vm:spawn_worker():open_file("/tmp/x", "r") end), "vm:open_file")
end)

test("a worker killed from the guest is reported with its exit status", function(t)
  local w = vm:spawn_worker({ uid = 1000 })
  local pid = w:run("echo $PPID").stdout:gsub("%s", "")
  vm:run("kill -9 " .. pid):assert_ok()
  local msg = err(function() w:run("true") end)
  t:assert_contains(msg, "died")
  t:assert_contains(msg, "137")
  t:assert_contains(err(function() w:run("true") end), "died")
  t:assert_eq(w:join(), 137)
end)

test("worker:syscall and syscall_async run in the worker process", function(t)
  local SYS_getpid, SYS_getuid, SYS_close = 39, 102, 3
  local w = vm:spawn_worker({ uid = 1000 })
  local wpid = tonumber((w:run("echo $PPID").stdout:gsub("%s", "")))
  local mine = w:syscall(SYS_getpid)
  t:assert_eq({ mine.ret, mine.result, mine.errno }, { wpid, wpid, 0 })
  t:assert(mine.ret ~= vm:syscall(SYS_getpid).ret, "not the agent's pid")
  t:assert_eq(w:syscall(SYS_getuid).ret, 1000)
  t:assert_eq(vm:syscall(SYS_getuid).ret, 0)
  t:assert_eq(w:syscall(SYS_getuid, { args = {} }).ret, 1000)
  local bad = w:syscall(SYS_close, 987654)
  t:assert_eq({ bad.ret, bad.errno }, { -1, 9 })
  local h = w:syscall_async(SYS_getpid)
  t:assert_eq(h:await().ret, wpid)
  t:assert_contains(err(function() h:await() end), "already awaited")
  t:assert_eq(w:join(), 0)
  t:assert_contains(err(function() w:syscall(SYS_getpid) end), "joined")
  t:assert_contains(err(function() w:syscall_async(SYS_getpid):await() end), "joined")
  -- a call in flight when its worker is joined is answered with the join
  local w2 = vm:spawn_worker()
  local slow = w2:syscall_async(35, { bufs = { string.pack("<i8i8", 100, 0) }, ptrs = { 0 } }) -- nanosleep(100 s)
  t:assert_eq(w2:join(), 0)
  t:assert_contains(err(function() slow:await() end), "was joined before answering")
end)

test("close is idempotent", function(t)
  local w = vm:spawn_worker()
  w:close()
  w:close()
  t:assert_contains(err(function() w:run("true") end), "joined")
end)

test("a test leaves a worker and its process running", function(t)
  seen.w = vm:spawn_worker({ uid = 1000 })
  seen.pid = seen.w:run("echo $PPID").stdout:gsub("%s", "")
  seen.child = seen.w:run_async("exec sleep 1000"):pid()
  t:assert_eq(vm:run("ps -o comm | grep -cx provium-agent").stdout, "2\\n")
end)

test("the end of that test reaped them", function(t)
  t:assert_eq(vm:run("ps -o comm | grep -cx provium-agent").stdout, "1\\n")
  t:assert(vm:run("test -e /proc/" .. seen.pid).exit_code ~= 0, "the worker process is gone")
  t:assert(vm:run("test -e /proc/" .. seen.child).exit_code ~= 0, "its command is gone")
  t:assert_contains(err(function() seen.w:run("true") end), "joined")
end)

test("bad options name the option", function(t)
  t:assert_contains(err(function() vm:spawn_worker({ uid = "x" }) end), "uid")
  t:assert_contains(err(function() vm:spawn_worker({ uid = -1 }) end), "uid")
  t:assert_contains(err(function() vm:spawn_worker({ gid = 1.5 }) end), "gid")
  t:assert_contains(err(function() vm:spawn_worker({ groups = { "wheel" } }) end), "groups")
  t:assert_contains(err(function() vm:spawn_worker({ env = { A = 1 } }) end), "env")
  t:assert_contains(err(function() vm:spawn_worker({ bogus = 1 }) end), "bogus")
  t:assert_contains(err(function() vm:spawn_worker({ thread = true }) end), "not supported")
  local msg = err(function() vm:spawn_worker({ cwd = "/no/such/dir" }) end)
  t:assert_contains(msg, "cwd")
  t:assert_contains(msg, "/no/such/dir")
  t:assert_contains(err(function() provium:vm("idle", "default"):spawn_worker() end), "VM not booted")
end)
`;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'provium-workers-'));
  writeFileSync(path.join(dir, 'workers.test.lua'), WORKERS);
  const r = await execa('node', [CLI, 'test', '--json', '.'], { cwd: dir, reject: false });
  events = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as RunEvent);
}, 300_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const result = (name: string) => events.find((e) => (e.event === 'test_passed' || e.event === 'test_failed') && e.test === name);

it.each([
  'a worker acts with its own uid, gid and groups',
  'a worker keeps exactly the capabilities it is given, and has the namespaces it asks for',
  'a worker keeps its process, directory and environment between calls',
  'run_async through a worker: wait, kill, stdin, timeout',
  'join returns the exit status and is terminal; kill signals the worker',
  'a worker killed from the guest is reported with its exit status',
  'worker:syscall and syscall_async run in the worker process',
  'close is idempotent',
  'a test leaves a worker and its process running',
  'the end of that test reaped them',
  'bad options name the option',
])('%s', (name) => {
  const e = result(name);
  expect(e?.event, JSON.stringify(e)).toBe('test_passed');
});
