/**
 * vm:batch end to end: a real Lua file run by the built CLI against the real
 * default guest (one VM, shared by every test of the file).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RunEvent } from '@provium/types';

const CLI = path.resolve(__dirname, '../../runner/bin/provium.js');

const BATCH = `
local vm = provium:vm("b", "default", { memory = "192M" }):boot()
local function err(fn) return tostring(select(2, pcall(fn))) end

test("mixed operations come back in call order", function(t)
  local r = vm:batch(function(b)
    b:write_file("/tmp/m", "one\\0two")
    b:run("cat /tmp/m; echo; echo err >&2; exit 3")
    b:read_file("/tmp/m")
    b:stat("/tmp/m")
    b:mkdir("/tmp/md/sub", { parents = true, perm = 448 })
    b:mkdir("/tmp/md2", true)
    b:listdir("/tmp/md")
    b:rename("/tmp/m", "/tmp/md/m")
    b:unlink("/tmp/md/m")
    b:run("ls", { "/tmp/md" })
    b:run("echo $X", { env = { X = "y" } })
    b:run("sleep 30", { timeout = "300ms" })
  end)
  t:assert_eq(#r, 12)
  for i = 1, #r do t:assert_eq(r[i].err, nil, "entry " .. i) end
  t:assert_eq(r[1], {})
  -- a nonzero exit is ok, with its RunResult
  local run = r[2].ok
  t:assert_eq({ run.exit_code, run.stdout, run.stderr, run.status, run:ok() }, { 3, "one\\0two\\n", "err\\n", "exited", false })
  t:assert_eq(r[3].ok, "one\\0two")
  t:assert_eq({ r[4].ok.size, r[4].ok.entry_type, r[4].ok.perm }, { 7, "file", 420 })
  t:assert_eq(r[7].ok, { { name = "sub", entry_type = "directory" } })
  t:assert_eq({ r[10].ok.stdout, r[11].ok.stdout, r[12].ok.status }, { "sub\\n", "y\\n", "timed_out" })
  t:assert_eq({ vm:stat("/tmp/md/sub").perm, vm:stat("/tmp/md2").entry_type }, { 448, "directory" })
end)

test("a failing operation does not stop the later ones", function(t)
  local r = vm:batch(function(b)
    b:write_file("/tmp/f1", "a")
    b:read_file("/nonexistent/x")
    b:run("/no/such/program", {})
    b:rename("/tmp/nope1", "/tmp/nope2")
    b:run("echo after >> /tmp/f1")
    b:read_file("/tmp/f1")
  end)
  t:assert_eq(#r, 6)
  t:assert_eq({ r[2].ok, r[3].ok, r[4].ok }, { nil, nil, nil })
  t:assert_contains(r[2].err, "ENOENT")
  t:assert_contains(r[2].err, "/nonexistent/x")
  t:assert_contains(r[3].err, "/no/such/program")
  t:assert_contains(r[4].err, "/tmp/nope1")
  t:assert_eq(r[6].ok, "aafter\\n")
end)

test("an empty batch returns {}; sending is a guest op", function(t)
  t:assert_eq(vm:batch(function(b) end), {})
  local idle = provium:vm("idle", "default")
  t:assert_eq(idle:batch(function(b) end), {})
  t:assert_contains(err(function() idle:batch(function(b) b:stat("/") end) end), "VM not booted")
end)

test("an error inside fn propagates and nothing is sent", function(t)
  local kept
  local e = err(function()
    vm:batch(function(b)
      kept = b
      b:write_file("/tmp/never", "x")
      error("boom in fn")
    end)
  end)
  t:assert_contains(e, "boom in fn")
  -- also when fn raises after it waited on the guest
  e = err(function()
    vm:batch(function(b)
      b:write_file("/tmp/never", "x")
      vm:run("true")
      error("late boom")
    end)
  end)
  t:assert_contains(e, "late boom")
  t:assert_eq(vm:run("test -e /tmp/never").exit_code, 1)
  -- the builder is closed once vm:batch is done with it, sent or not
  t:assert_contains(err(function() kept:stat("/") end), "sent already")
  vm:batch(function(b) kept = b end)
  t:assert_contains(err(function() kept:stat("/") end), "sent already")
end)

test("fn may wait on the guest itself while it records", function(t)
  vm:write_file("/tmp/src", "copied")
  local r = vm:batch(function(b) b:write_file("/tmp/dst", vm:read_file("/tmp/src")) b:read_file("/tmp/dst") end)
  t:assert_eq(r[2].ok, "copied")
end)

test("bad builder arguments name the operation and the argument", function(t)
  local function bad(fn) return err(function() vm:batch(fn) end) end
  local e = bad(function(b) b:stat("/") b:stat("/") b:read_file(42) end)
  t:assert_contains(e, "b:read_file (operation 3 of the batch): bad argument #1 'path'")
  t:assert_contains(bad(function(b) b:mkdir("/x", "yes") end), "(operation 1 of the batch): bad argument #2 'opts'")
  t:assert_contains(bad(function(b) b:stat("/") b:mkdir("/x", { perm = 99999 }) end), "(operation 2 of the batch): argument #2 'opts': perm")
  t:assert_contains(bad(function(b) b:write_file("/tmp/x") end), "bad argument #2 'data'")
  t:assert_contains(bad(function(b) b:run(7) end), "bad argument #1 'cmd'")
  t:assert_contains(bad(function(b) b:rename("/a") end), "bad argument #2 'to'")
  t:assert_contains(err(function() vm:batch("not a function") end), "bad argument #1 'fn'")
  t:assert_eq(vm:run("test -e /x").exit_code, 1)
end)
`;

let dir: string;
let events: RunEvent[];
let stderr: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'provium-batch-'));
  writeFileSync(path.join(dir, 'batch.test.lua'), BATCH);
  const r = await execa('node', [CLI, 'test', '--json', '--timeout-scale', '3', '.'], { cwd: dir, reject: false });
  events = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as RunEvent);
  stderr = r.stderr;
}, 300_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

it.each([
  'mixed operations come back in call order',
  'a failing operation does not stop the later ones',
  'an empty batch returns {}; sending is a guest op',
  'an error inside fn propagates and nothing is sent',
  'fn may wait on the guest itself while it records',
  'bad builder arguments name the operation and the argument',
])('%s', (name) => {
  const e = events.find((x) => 'test' in x && x.test === name && x.event !== 'test_started');
  expect(e?.event, `${JSON.stringify(e)}\n${stderr}`).toBe('test_passed');
});
