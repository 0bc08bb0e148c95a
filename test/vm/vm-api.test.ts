/**
 * The VM API end to end: real Lua test files run by the built CLI (worker
 * threads, host services over the port), booting the real default guest under
 * QEMU. Four boots in all (a; l1 and l2 as one lab; t); each file shares its
 * VMs between its tests.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FileCompleted, RunEvent, TestFailed } from '@provium/types';

const CLI = path.resolve(__dirname, '../../runner/bin/provium.js');
let dir: string;
let events: RunEvent[];
let stderr: string;

const OPS = `
local vm = provium:vm("a", "default", { memory = "192M" })
vm:boot({ files = { { path = "/etc/motd.d/hello", content = "hi\\n", mode = 384 } }, initial_time = 1700000000,
  kernel_cmdline = "quiet provium.test=replaced", kernel_cmdline_append = "provium.extra=1" })

local function err(fn) return tostring(select(2, pcall(fn))) end

test("the state machine", function(t)
  local idle = provium:vm("idle", "default")
  t:assert_eq(idle:state(), "created")
  t:assert_contains(err(function() idle:run("true") end), "VM not booted")
  t:assert_eq(provium:vm("idle"), idle)
  t:assert_contains(err(function() provium:vm("idle", "default") end), "already exists")
  t:assert_contains(err(function() provium:vm("nope") end), 'no VM named "nope"')
  idle:shutdown()
  t:assert_eq(idle:state(), "shutdown")
  t:assert_contains(err(function() idle:boot() end), "create a new VM")

  t:assert_eq(vm:state(), "booted")
  t:assert_eq(vm:read_file("/etc/motd.d/hello"), "hi\\n")
  t:assert_eq(vm:stat("/etc/motd.d/hello").perm, 384)
  t:assert(vm:clock():get() < 1700000600, "initial_time sets the guest clock")
  -- 192M, not the profile's 256M: the guest sees ~145 MB of 192M (~210 MB of 256M)
  t:assert_eq(vm:run("awk '/MemTotal/ {print ($2 > 120000 && $2 < 180000)}' /proc/meminfo").stdout, "1\\n")
  t:assert_contains(err(function() vm:boot() end), "already booted")
  local p = vm:run_async("sleep 100")
  vm:pause()
  t:assert_eq(vm:state(), "paused")
  t:assert_contains(err(function() vm:run("true") end), "resume()")
  t:assert_contains(err(function() p:kill() end), "resume()")
  vm:resume()
  t:assert_eq(vm:run("echo back").stdout, "back\\n")
  p:kill("kill")
  t:assert_eq(p:wait("20s").status, "signalled")
end)

test("run: exit codes, output, argv, env, cwd, stdin, timeout", function(t)
  local r = vm:run("echo out; echo err >&2; exit 3")
  t:assert_eq({ r.exit_code, r.stdout, r.stderr, r.status, r:ok() }, { 3, "out\\n", "err\\n", "exited", false })
  t:assert_eq(vm:run("/bin/echo", { args = { "x y", "z" } }).stdout, "x y z\\n")
  t:assert_eq(vm:run("echo $GREETING", { env = { GREETING = "hi" } }).stdout, "hi\\n")
  t:assert_eq(vm:run("pwd", { cwd = "/proc" }).stdout, "/proc\\n")
  t:assert_eq(vm:run("cat", { stdin = "\\0in\\255" }).stdout, "\\0in\\255")
  local slow = vm:run("sleep 30", { timeout = "300ms" })
  t:assert_eq({ slow.status, slow.exit_code, slow.timed_out }, { "timed_out", -2, true })
  local killed = vm:run("kill -9 $$")
  t:assert_eq({ killed.status, killed.exit_code, killed.signal, killed.signal_name }, { "signalled", -1, 9, "KILL" })
  t:assert_eq(vm:run("hostname").stdout, "a\\n")
  t:assert_eq(vm:run("true"):assert_ok().exit_code, 0)
  -- more guest operations in one test than an AbortSignal's listener warning allows (10)
  for _ = 1, 12 do vm:run("true") end
end)

test("files are binary-safe", function(t)
  local all = {}
  for i = 0, 255 do all[#all + 1] = string.char(i) end
  local data = table.concat(all):rep(4096) -- 1 MiB
  vm:write_file("/tmp/all", data)
  t:assert_eq(vm:read_file("/tmp/all") == data, true)
  local st = vm:stat("/tmp/all")
  t:assert_eq({ st.size, st.entry_type }, { #data, "file" })
  vm:mkdir("/tmp/d/e", { parents = true })
  vm:rename("/tmp/all", "/tmp/d/moved")
  local names = {}
  for _, e in ipairs(vm:listdir("/tmp/d")) do names[e.name] = e.entry_type end
  t:assert_eq(names, { e = "directory", moved = "file" })
  vm:unlink("/tmp/d/moved")
  local err = t:assert_raises(function() vm:read_file("/tmp/d/moved") end)
  t:assert_contains(tostring(err), "/tmp/d/moved")
end)

test("console and clock", function(t)
  local con = vm:console()
  t:assert_contains(con:read_log(), "provium-agent: ready")
  con:write("echo con$((6*7))sole\\n")
  t:assert_eq(con:expect("con%d+sole", "20s"), "con42sole")
  -- each expect starts after the previous match: this one cannot see con42sole again
  con:write("echo con$((6*7+1))sole\\n")
  t:assert_eq(con:expect("con%d+sole", "20s"), "con43sole")
  local clock = vm:clock()
  clock:set(2000000000)
  clock:advance("1h")
  local now = clock:get()
  t:assert(now >= 2000003600 and now < 2000003700, "clock after advance: " .. now)
end)

test("open files and pushed host files", function(t)
  local f = vm:open_file("/tmp/f.bin", "w+")
  f:write("0123456789")
  t:assert_eq(f:seek(-4, "end"), 6)
  t:assert_eq(f:read(2), "67")
  t:assert_eq(f:tell(), 8)
  f:seek(0)
  t:assert_eq(f:read_all(), "0123456789")
  f:close()
  t:assert_contains(tostring(t:assert_raises(function() f:read(1) end)), "closed")
  t:assert_contains(tostring(t:assert_raises(function() vm:open_file("/tmp/x", "rw") end)), 'mode must be one of')
  local host = os.tmpname()
  local h = io.open(host, "wb"); h:write("from the host\0"); h:close()
  vm:push_file(host, "/tmp/pushed")
  t:assert_eq(vm:read_file("/tmp/pushed"), "from the host\0")
  t:assert_contains(tostring(t:assert_raises(function() vm:push_file("/no/such/file", "/tmp/y") end)), "/no/such/file")
end)

test("argument errors come from the schema", function(t)
  local err = t:assert_raises(function() vm:run("true", "x") end)
  t:assert_contains(tostring(err), "expected RunOpts or string[], got string")
  err = t:assert_raises(function() vm:run("true", { timeot = 1 }) end)
  t:assert_contains(tostring(err), "timeot")
  t:assert_contains(tostring(t:assert_raises(function() provium:vm("rs", "default"):boot({ rng_seed = 1 }) end)), "rng_seed is not available yet")
  t:assert_contains(tostring(t:assert_raises(function() provium:vm("c0", "default", { cpus = 0 }) end)), 'VM "c0": cpus must be at least 1; got 0')
  t:assert_contains(tostring(t:assert_raises(function() provium:vm("m0", "default", { memory = "1M" }) end)), 'give at least "32M"')
  local rel = provium:vm("rel", "default")
  err = t:assert_raises(function() rel:boot({ files = { { path = "etc/x", content = "" } } }) end)
  t:assert_contains(tostring(err), 'files[1].path must be an absolute guest path; got "etc/x"')
  t:assert_eq(rel:state(), "created")
end)

test("a call that waits is refused where Lua cannot wait, before it reaches the guest", function(t)
  local f = vm:open_file("/tmp/sort-f", "w")
  for _, call in ipairs({
    function() vm:write_file("/tmp/sorted", "x") end,
    function() f:tell() end,
    function() f:seek(0) end,
  }) do
    local err = t:assert_raises(function() table.sort({ 2, 1 }, function(a, b) call() return a < b end) end)
    t:assert_contains(tostring(err), "cannot be called inside a table.sort comparator")
  end
  f:close()
  t:assert_eq(vm:run("test -e /tmp/sorted; echo $?").stdout, "1\\n")
  local vms = { vm, provium:vm("sort-b", "default") }
  table.sort(vms, function(a, b) return a:name() > b:name() end) -- what does not wait still works there
  t:assert_eq(vms[1]:name(), "sort-b")
end)

test("the original's shapes", function(t)
  t:assert_eq({ vm:name(), vm:profile(), vm:state() }, { "a", "default", "booted" })
  t:assert_eq(math.type(vm:cid()), "integer")
  t:assert_contains(tostring(vm), "cid " .. vm:cid())
  t:assert_eq({ provium:lab():name(), provium:lab():name() }, { "__lab_1", "__lab_2" })
  t:assert_contains(tostring(t:assert_raises(function() provium:vm("pack", "default") end)), "reserved")
  t:assert_contains(tostring(t:assert_raises(function() vm:run("ls", { cwd = "/nope" }) end)), 'working directory "/nope" (cwd): ENOENT')
  t:assert_contains(tostring(t:assert_raises(function() vm:run("/no/such/program", {}) end)), 'program "/no/such/program" not found in the guest (ENOENT)')
  vm:pause()
  t:assert_contains(tostring(t:assert_raises(function() vm:boot() end)), "is paused (booted already): call vm:resume()")
  vm:resume()
  -- kernel_cmdline replaces the profile's line ("console=ttyS0 panic=-1 quiet"); Provium's own words come last
  t:assert_eq(vm:read_file("/proc/cmdline"), "quiet provium.test=replaced provium.extra=1 console=ttyS0 panic=-1 provium.hostname=a\\n")
  t:assert(("abc"):find("b")) -- any second value, as Lua's assert
  t:assert_eq(vm:run("/bin/echo", { "x y", "z" }).stdout, "x y z\\n")
  t:assert_eq(vm:run("true", {}).status, "exited") -- {}: the program itself, no shell
  t:assert_eq(vm:run("sleep 5", { timeout_ms = 300 }).status, "timed_out")
  t:assert_eq({ vm:stat("/tmp").entry_type, vm:stat("/dev/null").entry_type }, { "directory", "char_device" })
  local f = vm:open_file("/tmp/modes", { write = true, create = true, exclusive = true })
  t:assert_eq(f:write("abc"), 3)
  t:assert_eq({ vm:open_file_count(), vm:is_quiescent() }, { 1, false })
  f:close()
  t:assert_eq({ vm:open_file_count(), vm:open_stream_count(), vm:is_quiescent() }, { 0, 0, true })
  t:assert_contains(tostring(t:assert_raises(function() vm:open_file("/tmp/modes", { write = true, create = true, exclusive = true }) end)), "/tmp/modes")
  t:assert_contains(tostring(t:assert_raises(function() vm:open_file("/tmp/modes", { create = true }) end)), "read, write or append")
  t:assert_eq(vm:open_file("/tmp/modes", { read = true }):read_all(), "abc")
  local p = vm:run_async("echo partial; sleep 30")
  vm:run("sleep 0.5")
  local r = p:wait("1s")
  t:assert_eq({ r.status, r.exit_code, r.timed_out, r.stdout }, { "timed_out", -2, true, "partial\\n" })
  local q = vm:run_async("sleep 30")
  t:assert(q:handle() > 0, "a positive handle")
  q:signal("SIGKILL")
  t:assert_eq({ q:wait("20s").signal, vm:run_async("kill -TERM $$"):wait("20s").signal_name }, { 9, "TERM" })
  local frames = vm:run_async("printf one; sleep 0.5; printf two"):stdout_stream():drain("10s")
  t:assert_eq(table.concat(frames), "onetwo")
  t:assert_eq(vm:run_async("printf 'x a.b+c y'"):stdout_stream():expect("a.b+c"), "a.b+c")
  local clock = vm:clock()
  local before = clock:get()
  clock:advance(-3600)
  t:assert(clock:get() < before - 3000, "the clock went back")
  clock:sleep(0.1)
  t:assert_eq(provium.nothing_here, nil)
  t:assert_contains(tostring(t:assert_raises(function() provium:vm("np", "no-such-profile") end)), "no-such-profile")
  local sub = provium:lab("shapes")
  sub:vm("s1", "default")
  sub:vm("s0", "default")
  t:assert_eq({ sub:name(), sub:vm_names(), sub:bridge_names(), sub:sub_lab_names() }, { "shapes", { "s0", "s1" }, {}, {} })
  local m = sub:members()
  t:assert_eq({ m[1].kind, m[1].name, m[2].name }, { "vm", "s0", "s1" })
  t:assert_eq(m[1].ref, sub:vm("s0"))
  sub:remove("s0")
  t:assert_eq(sub:vm_names(), { "s1" })
  vm:console():write("\\n", { timeout = "5s" })
  vm:console():close()
end)

test("processes and streams", function(t)
  local p = vm:run_async("echo start; read line; echo got:$line; echo oops >&2; sleep 30")
  t:assert(p:pid() > 1, "a guest pid")
  t:assert_eq(p:status(), "running")
  local out = p:stdout_stream()
  t:assert_eq(out:read_until("start\\n"), "start\\n")
  p:stdin_write("hello\\n")
  t:assert_eq(out:expect("got:%a+\\n", "20s"), "got:hello\\n") -- the newline: output can arrive in pieces
  t:assert_eq(p:stderr_stream():expect("oops"), "oops")
  p:kill("kill")
  local r = p:wait("20s")
  t:assert_eq({ r.status, r.signal }, { "signalled", 9 })
  t:assert_contains(r.stdout, "got:hello")
  t:assert_contains(tostring(t:assert_raises(function() p:wait() end)), "already returned")
  local q = vm:run_async("cat", { stdin = "fed\\n" })
  t:assert_eq(q:wait("20s").stdout, "fed\\n")
  local con = vm:console():read()
  vm:console():write("echo streamed-$((40+2))\\n")
  t:assert_eq(con:expect("streamed%-%d+\\r", "20s"), "streamed-42\\r")
  con:close()
  t:assert_eq({ con:next(), con:eof() }, { nil, true }) -- a closed stream reads as the end (§13)
  local bin = vm:run_async("printf 'a\\\\377b'"):stdout_stream()
  t:assert_eq(bin:expect("a.b"), "a\\255b")
end)

test("a failing command shows what it printed", function(t)
  vm:run("echo to-stdout; echo to-stderr >&2; exit 7"):assert_ok()
end)

test("a guest that dies fails the test with the console tail", function(t)
  vm:run("echo b > /proc/sysrq-trigger")
  vm:run("true")
end)

test("after death the VM stays dead", function(t)
  local err = t:assert_raises(function() vm:run("true") end)
  t:assert_contains(tostring(err), "died")
  t:assert_contains(tostring(err), "The VM is dead: create a new VM with provium:vm()")
  t:assert_eq(vm:state(), "dead")
  t:assert_eq(vm:cid(), nil)
  t:assert_contains(vm:console():read_log(), "provium-agent: ready")
end)
`;

const LAB = `
provium:claim({ memory = "512M", cpus = 2 })
provium:vm("l1", "default")
provium:vm("l2", "default", { memory = "192M" })

test("a lab boots all its VMs on one acquisition", function(t)
  t:assert_eq(provium:boot(), provium)
  t:assert_eq(provium.l1:run("hostname").stdout, "l1\\n")
  t:assert_eq(provium:vm("l2"):run("hostname").stdout, "l2\\n")
  t:assert_eq(#provium:members(), 2)
  provium:pause()
  t:assert_eq(provium.l1:state(), "paused")
  provium:resume()
  t:assert_eq(provium.l1:run("true").exit_code, 0)
end)

test("a boot past the file's claim fails at once with the numbers", function(t)
  -- l1 and l2 hold both CPUs of the claim, and only the file itself could give them back
  provium:vm("l4", "default", { memory = "32M" }):boot()
end)

test("reset reboots the guest and waits for its agent", function(t)
  local l1 = provium.l1
  l1:write_file("/tmp/marker", "x")
  l1:run("echo mark-1 > /dev/console")
  l1:reset()
  t:assert_eq(l1:state(), "booted")
  t:assert_eq(l1:run("test -e /tmp/marker").exit_code, 1)
  l1:run("echo mark-2 > /dev/console")
  -- console expect starts over with the new boot
  t:assert_eq(l1:console():expect("mark%-%d"), "mark-2")
end)

test("a guest that powers itself off is shut down, not dead", function(t)
  local l2 = provium.l2
  local out = l2:run_async("sleep 100"):stdout_stream()
  -- the default guest's acpid powers off on the ACPI power button
  l2:power_button()
  t:assert_contains(tostring(t:assert_raises(function() out:next("60s") end)), "powered off")
  wait_until(function() return l2:state() == "shutdown" end, { desc = "the guest powering itself off" })
  t:assert_contains(tostring(t:assert_raises(function() l2:run("true") end)), "powered itself off")
  t:assert_contains(tostring(t:assert_raises(function() l2:boot() end)), "create a new VM")
  provium:shutdown()
  t:assert_eq(provium.l1:state(), "shutdown")
end)

test("VMs boot within the file's claim, and one claim per file", function(t)
  t:assert_contains(tostring(t:assert_raises(function() provium:claim({ cpus = 1 }) end)), "one claim per file")
  local big = provium:vm("l3", "default", { memory = "1G" })
  t:assert_contains(tostring(t:assert_raises(function() big:boot() end)), "needs 1.0G memory and 1 CPU, but the file's claim is 512M memory and 2 CPUs")
end)
`;

const TIMEOUT = `
local vm = provium:vm("t", "default"):boot()

test("a file that times out in a guest command", function(t)
  vm:run("sleep 9")
  -- Already over, by more than the main thread's grace (5 s): the file times out inside
  -- the next host call, and the worker still gets the grace to end it (kill the VM).
  provium.timeout = "1s"
  vm:run("sleep 1000")
end)
`;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'provium-vm-'));
  writeFileSync(path.join(dir, 'ops.test.lua'), OPS);
  writeFileSync(path.join(dir, 'timeout.test.lua'), TIMEOUT);
  writeFileSync(path.join(dir, 'lab.test.lua'), LAB);
  // Traced (PROVIUM_TRACE_CALLS), as bench:vm runs: the records are checked below.
  const env = { PROVIUM_TRACE_CALLS: path.join(dir, 'calls.jsonl') };
  const r = await execa('node', [CLI, 'test', '-j2', '--json', '--timeout-scale', '3', '.'], { cwd: dir, reject: false, env });
  events = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as RunEvent);
  stderr = r.stderr;
}, 300_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('guest operations leave no listeners behind on the test\'s signal (no MaxListenersExceededWarning)', () => {
  expect(events.some((e) => e.event === 'test_passed' && e.test.startsWith('run: exit codes'))).toBe(true);
  expect(stderr).not.toContain('MaxListenersExceeded');
});

it('PROVIUM_TRACE_CALLS records each waiting call, and a vm:run with its way through the client and the agent', () => {
  const records = readFileSync(path.join(dir, 'calls.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  expect(records.some((r) => r.label === 'vm:boot')).toBe(true);
  const run = records.find((r) => r.label === 'vm:run' && r.command === 'echo back');
  const { impl, resolved, resumed, returned } = run.marks;
  const { send, encoded, sent, arrived, decoded, agent } = run.exec;
  const inOrder = [impl, send, encoded, sent, arrived, decoded, resolved, resumed, returned];
  expect(inOrder.every((m) => typeof m === 'number')).toBe(true);
  expect([...inOrder].sort((a, b) => a - b)).toEqual(inOrder);
  expect(Object.keys(agent).sort()).toEqual(['prep_ns', 'reply_ns', 'spawn_ns', 'wait_ns']);
  expect((agent.prep_ns + agent.spawn_ns + agent.wait_ns + agent.reply_ns) / 1e6).toBeLessThan(arrived - encoded);
});

it('a claim bigger than the whole pool fails the file at once with the numbers', async () => {
  const small = mkdtempSync(path.join(tmpdir(), 'provium-vm-'));
  try {
    writeFileSync(path.join(small, 'big.test.lua'), LAB);
    const r = await execa('node', [CLI, 'test', '--json', '--cpu-overcommit', '0.5', '.'], { cwd: small, reject: false });
    const ev = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as RunEvent);
    const done = ev.find((e): e is FileCompleted => e.event === 'file_completed');
    expect(done?.status).toBe('error');
    expect(done?.error?.message).toMatch(/claim of big\.test\.lua needs .* and 2 CPUs, more than the whole pool of .* and 1 CPU/);
    expect(ev.some((e) => e.event === 'vm_spawned')).toBe(false);
  } finally {
    rmSync(small, { recursive: true, force: true });
  }
});

const result = (test: string) => events.find((e) => 'test' in e && e.test === test && e.event !== 'test_started');

describe('the VM API on the default guest', () => {
  it.each([
    'run: exit codes, output, argv, env, cwd, stdin, timeout',
    'files are binary-safe',
    'console and clock',
    'argument errors come from the schema',
    'processes and streams',
    "the original's shapes",
    'a call that waits is refused where Lua cannot wait, before it reaches the guest',
    'open files and pushed host files',
    'after death the VM stays dead',
    'the state machine',
    'a lab boots all its VMs on one acquisition',
    'reset reboots the guest and waits for its agent',
    'a guest that powers itself off is shut down, not dead',
    "VMs boot within the file's claim, and one claim per file",
  ])('%s', (name) => {
    const e = result(name);
    expect(e?.event, JSON.stringify(e)).toBe('test_passed');
  });

  it('assert_ok shows the command, status, exit code, stdout and stderr', () => {
    const e = result('a failing command shows what it printed') as TestFailed;
    expect(e.event).toBe('test_failed');
    expect(e.error.message).toMatch(/exit code 7, status exited.*echo to-stdout/);
    expect(e.error.message).toContain('to-stdout');
    expect(e.error.message).toContain('to-stderr');
    expect(e.error.location?.line).toBeGreaterThan(0);
  });

  it('a boot past the claim fails at once, saying what it needs, the claim and what is in use; the VM never starts', () => {
    const e = result("a boot past the file's claim fails at once with the numbers") as TestFailed;
    expect(e.event).toBe('test_failed');
    expect(e.error.message).toContain("needs 32M memory and 1 CPU, but the file's claim is 512M memory and 2 CPUs with");
    expect(e.error.message).toContain('2 CPUs in use; raise provium:claim');
    expect(events.some((x) => x.event === 'vm_spawned' && x.vm === 'l4')).toBe(false);
  });

  it('keeps the console and agent logs of a failed test and names them in the event', () => {
    const e = result('a failing command shows what it printed') as TestFailed;
    const consoleLog = e.artifacts?.['a console log'];
    const agentLog = e.artifacts?.['a agent log'];
    expect(consoleLog).toMatch(/\.provium\/artifacts\/ops\.test\.lua\/a_failing_command_shows_what_it_printed\/a\.console\.log$/);
    expect(readFileSync(consoleLog!, 'utf8')).toContain('provium-agent: ready');
    expect(agentLog).toBeDefined();
    expect(readFileSync(agentLog!, 'utf8').length).toBeGreaterThan(0);
  });

  it('a QEMU that dies mid-test fails that test with the last console lines', () => {
    const e = result('a guest that dies fails the test with the console tail') as TestFailed;
    expect(e.event).toBe('test_failed');
    expect(e.error.message).toMatch(/vm "a" died: QEMU of VM "a" exited \(.*guest-reset\) — last console lines:\n {2}\| /);
    // QEMU and its run dir are gone; the console log was kept for the failure
    const consoleLog = e.artifacts?.['a console log'];
    expect(readFileSync(consoleLog!, 'utf8')).toContain('provium-agent: ready');
    expect(events.find((x) => x.event === 'vm_shutdown' && x.vm === 'a')).toMatchObject({ reason: 'died (guest-reset)' });
  });

  it('kills the VMs of a file that times out', () => {
    const done = events.find((e): e is FileCompleted => e.event === 'file_completed' && e.file === 'timeout.test.lua');
    expect(done?.status).toBe('timed_out');
    expect(events.find((e) => e.event === 'vm_shutdown' && e.vm === 't')).toMatchObject({ reason: 'file ended' });
  });

  it('reports VM lifecycle events and leaves no QEMU behind', () => {
    const spawned = events.filter((e) => e.event === 'vm_spawned');
    expect(spawned.map((e) => 'vm' in e && e.vm).sort()).toEqual(['a', 'l1', 'l2', 't']);
    const reason = (vm: string) => events.find((e) => e.event === 'vm_shutdown' && e.vm === vm);
    expect(reason('l1')).toMatchObject({ reason: 'shutdown' });
    expect(reason('l2')).toMatchObject({ reason: 'guest powered off' });
    for (const e of spawned) {
      if (e.event !== 'vm_spawned') continue;
      expect(() => process.kill(e.pid, 0), `QEMU ${e.pid} of ${e.vm} is gone`).toThrow();
    }
  });
});
