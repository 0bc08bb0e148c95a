/**
 * The standard library as test code sees it: print/io.write go to logs, io
 * files are binary-safe, processes run asynchronously with Lua's result
 * conventions, os.exit ends only the file, temp files are cleaned up.
 */
import { existsSync } from 'node:fs';
import { afterAll, describe, expect, test } from 'vitest';
import { cleanupRuns, failureOf, runLua } from './helpers.js';

afterAll(cleanupRuns);

describe('output', () => {
  test('print and io.write go to the test log, or the file log outside tests', async () => {
    const r = await runLua(`
print("top", 1, nil, true)
io.write("partial ", 42)
io.write(" line\\n")
test("a", function(t)
  print("in a")
  io.write("x", "y\\n")
  io.stdout:write("via stdout\\n")
  io.stderr:write("via stderr\\n")
  t:log({})
end)`);
    expect(r.outcome.log).toEqual(['top\t1\tnil\ttrue', 'partial 42 line']);
    const a = r.results.get('a');
    expect(a?.event === 'test_passed' && a.log.slice(0, 4)).toEqual(['in a', 'xy', 'via stdout', 'via stderr']);
    expect(a?.event === 'test_passed' && a.log[4]).toMatch(/^table: /);
  });

  test('io.read reads nothing (tests have no stdin)', async () => {
    const r = await runLua(`test("r", function(t) t:assert_eq(io.read("l"), nil) t:assert_eq(io.read("a"), "") end)`);
    expect(r.outcome.status).toBe('passed');
  });
});

describe('io files', () => {
  test('write and read back every byte value, with all read formats', async () => {
    const r = await runLua(`
local path = os.tmpname()
test("bytes", function(t)
  local all = {}
  for i = 0, 255 do all[#all + 1] = string.char(i) end
  local data = table.concat(all)
  local f = assert(io.open(path, "wb"))
  t:assert_eq(f:write(data, "\\n", 12.5, " ", 7, "\\nlast"), f)
  f:close()
  local g = assert(io.open(path, "rb"))
  local back = g:read(256)
  t:assert_eq(#back, 256)
  t:assert(back == data, "binary-safe round trip")
  t:assert_eq(g:read("l"), "")
  t:assert_eq(g:read("n"), 12.5)
  t:assert_eq(g:read("n"), 7)
  t:assert_eq(g:read("L"), "\\n")
  t:assert_eq(g:read("a"), "last")
  t:assert_eq(g:read("a"), "")
  t:assert_eq(g:read("l"), nil)
  t:assert_eq(g:read(0), nil)
  t:assert_eq(g:seek("set", 2), 2)
  t:assert_eq(g:read(2), "\\2\\3")
  t:assert_eq(g:seek("cur"), 4)
  t:assert_eq(g:seek("end"), 256 + 1 + 6 + 1 + 4)
  t:assert_eq(io.type(g), "file")
  g:close()
  t:assert_eq(io.type(g), "closed file")
  t:assert_eq(tostring(g), "file (closed)")
  t:assert_eq(select(2, pcall(g.read, g)), "attempt to use a closed file")
end)`);
    expect(r.outcome.status).toBe('passed');
  });

  test('lines, io.lines, modes, append, r+ and errors', async () => {
    const r = await runLua(`
local path = os.tmpname()
test("lines", function(t)
  local f = assert(io.open(path, "w"))
  f:write("one\\ntwo\\n3 4\\n")
  f:close()
  local seen = {}
  for l in io.lines(path) do seen[#seen + 1] = l end
  t:assert_eq(seen, {"one", "two", "3 4"})
  local nums = {}
  local g = io.open(path)
  g:read("l") g:read("l")
  for a, b in g:lines("n", "n") do nums[#nums + 1] = a + b end
  g:close()
  t:assert_eq(nums, {7})
  local withnl = {}
  for l in io.lines(path, "L") do withnl[#withnl + 1] = l end
  t:assert_eq(withnl[1], "one\\n")
  local h = io.open(path, "a") h:write("appended") h:close()
  local rw = io.open(path, "r+")
  rw:write("ONE") rw:seek("set", 0)
  t:assert_eq(rw:read("a"), "ONE\\ntwo\\n3 4\\nappended")
  rw:close()
  local ok, msg, code = io.open(path .. ".missing")
  t:assert_eq(ok, nil)
  t:assert_contains(msg, "No such file or directory")
  t:assert_eq(code, 2)
  t:assert_raises(function() io.open(path, "rw") end)
  t:assert_contains(select(2, pcall(io.lines, path .. ".missing")), "No such file or directory")
  local wo = io.open(path, "w")
  t:assert_eq(select(2, wo:read("a")), "Bad file descriptor")
  wo:close()
  t:assert_eq(os.remove(path), true)
  t:assert_eq(os.remove(path), nil)
end)`);
    expect(r.outcome.status).toBe('passed');
  });

  test('io.output / io.input redirect the defaults', async () => {
    const r = await runLua(`
test("defaults", function(t)
  local path = os.tmpname()
  io.output(path)
  io.write("to file")
  io.close()
  io.output(io.stdout)
  io.input(path)
  t:assert_eq(io.read("a"), "to file")
  io.input(io.stdin)
end)`);
    expect(r.outcome.status).toBe('passed');
  });
});

describe('os', () => {
  test('tmpname makes /tmp/lua_XXXXXX files of mode 0600, as real Lua, and every one is removed when the file ends', async () => {
    const r = await runLua(`local p = os.tmpname() print(p) local f = io.open(p, "w") f:write("x") f:close()
print(os.tmpname())
local d = os.tmpname() os.remove(d) os.execute("mkdir " .. d .. " && touch " .. d .. "/inner") print(d)
local g = io.tmpfile() g:write("abc") g:seek("set") assert(g:read("a") == "abc")
test("exists while the file runs", function(t)
  local h = assert(io.open(p, "r")) t:assert_eq(h:read("a"), "x") h:close()
  local mode = io.popen("stat -c %a " .. p):read("l")
  t:assert_eq(mode, "600")
end)`);
    expect(r.outcome.status).toBe('passed');
    const made = r.outcome.log;
    expect(made).toHaveLength(3);
    for (const tmp of made) expect(tmp).toMatch(/^\/tmp\/lua_[A-Za-z0-9]{6}$/);
    expect(new Set(made).size).toBe(3);
    // the plain files and the one the test turned into a directory
    for (const tmp of made) expect(existsSync(tmp)).toBe(false);
  });

  test('getenv, rename, remove, time/date/clock', async () => {
    process.env.PROVIUM_RT_TEST = 'value';
    const r = await runLua(`test("os", function(t)
  t:assert_eq(os.getenv("PROVIUM_RT_TEST"), "value")
  t:assert_eq(os.getenv("PROVIUM_NOT_SET_X"), nil)
  local a = os.tmpname()
  t:assert_eq(os.rename(a, a .. ".2"), true)
  t:assert_eq(os.remove(a .. ".2"), true)
  t:assert_eq(math.type(os.time()), "integer")
  t:assert_eq(type(os.date("%Y")), "string")
  t:assert_eq(type(os.clock()), "number")
end)`);
    expect(r.outcome.status).toBe('passed');
  });

  test('os.execute: Lua result conventions, output to the log', async () => {
    const r = await runLua(`test("exec", function(t)
  t:assert_eq({os.execute("echo out; echo err >&2")}, {true, "exit", 0})
  t:assert_eq({os.execute("exit 3")}, {nil, "exit", 3})
  t:assert_eq({os.execute("kill -TERM $$")}, {nil, "signal", 15})
  t:assert_eq(os.execute(), true)
end)`);
    const e = r.results.get('exec');
    expect(e?.event).toBe('test_passed');
    expect(e?.event === 'test_passed' && e.log).toEqual(['out', 'err']);
  });

  test('io.popen: read formats, lines, close status; write mode', async () => {
    const r = await runLua(`test("popen", function(t)
  local p = io.popen("printf 'a\\\\nb\\\\n42 rest'")
  t:assert_eq(p:read("l"), "a")
  t:assert_eq(p:read("L"), "b\\n")
  t:assert_eq(p:read("n"), 42)
  t:assert_eq(p:read(2), " r")
  t:assert_eq(p:read("a"), "est")
  t:assert_eq(p:read("l"), nil)
  t:assert_eq({p:close()}, {true, "exit", 0})
  local lines = {}
  for l in io.popen("seq 3"):lines() do lines[#lines + 1] = l end
  t:assert_eq(lines, {"1", "2", "3"})
  t:assert_eq({io.popen("exit 5"):close()}, {nil, "exit", 5})
  local bin = io.popen("head -c 256 /dev/zero | tr '\\\\0' '\\\\377'"):read("a")
  t:assert_eq(bin, string.rep("\\255", 256))
  local out = os.tmpname()
  local w = io.popen("cat > " .. out, "w")
  t:assert_eq(w:write("through ", "stdin"), w)
  t:assert_eq({w:close()}, {true, "exit", 0})
  t:assert_eq(io.open(out):read("a"), "through stdin")
  t:assert_raises(function() io.popen("true", "rw") end)
  local slow = io.popen("sleep 0.05; echo late")
  t:assert_eq(slow:read("l"), "late")
  slow:close()
end)`);
    expect(r.results.get('popen')?.event).toBe('test_passed');
  });

  test('a process still running when its test ends is killed', async () => {
    const r = await runLua(`
test("leaves a process", function(t)
  PROC = io.popen("echo $$; exec sleep 30")
  PID = PROC:read("l")
  t:assert_eq(os.execute("kill -0 " .. PID), true)
end)
test("later", function(t)
  t:assert_eq(os.execute("kill -0 " .. PID .. " 2>/dev/null"), nil)
  t:assert_eq(PROC:read("a"), "")
end)`);
    expect(r.outcome).toMatchObject({ status: 'passed', passed: 2 });
  });

  test('os.exit ends the file with an error, not the process', async () => {
    const r = await runLua(`
test("first", function(t) end)
test("exits", function(t)
  pcall(os.exit, 3)
  os.exit(1)
end)
test("never runs", function(t) end)`);
    expect(r.outcome.status).toBe('error');
    expect(r.outcome.error?.message).toMatch(/^os\.exit\(3\) called at tests\/main\.test\.lua:4/);
    expect(failureOf(r, 'exits')).toContain('os.exit(3) called at tests/main.test.lua:4');
    expect(r.results.has('never runs')).toBe(false);
  });

  test('debug.debug is refused instead of reading stdin', async () => {
    const r = await runLua(`test("d", function(t) debug.debug() end)`);
    expect(failureOf(r, 'd')).toContain('debug.debug is not available in tests');
  });
});

describe('string.pack / string.unpack', () => {
  test('work in fengari', async () => {
    const r = await runLua(`test("pack", function(t)
  local s = string.pack(">I2 i4 z s1 d", 513, -2, "zs", "ab", 1.5)
  t:assert_eq(#s, 2 + 4 + 3 + 3 + 8)
  t:assert_eq(s:sub(1, 2), "\\2\\1")
  t:assert_eq({string.unpack(">I2 i4 z s1 d", s)}, {513, -2, "zs", "ab", 1.5, #s + 1})
  t:assert_eq(string.packsize("<i8"), 8)
end)`);
    expect(r.outcome.status).toBe('passed');
  });
});

describe('require', () => {
  test('finds helpers on the roots (module.lua and module/init.lua), names their files in errors', async () => {
    const r = await runLua({
      'main.test.lua': `
local util = require("lib.util")
local pkg = require("pkg")
test("helpers", function(t)
  t:assert_eq(util.double(4), 8)
  t:assert_eq(pkg.name, "pkg")
  t:assert(require("lib.util") == util, "loaded once")
end)
test("missing", function(t) require("nope") end)
test("broken", function(t) require("broken") end)
test("raising", function(t) require("lib.util").fail() end)`,
      'lib/util.lua': 'return { double = function(x) return x * 2 end, fail = function() error("from helper") end }',
      'pkg/init.lua': 'return { name = "pkg" }',
      'broken.lua': 'return {',
    });
    expect(r.results.get('helpers')?.event).toBe('test_passed');
    expect(failureOf(r, 'missing')).toContain("module 'nope' not found");
    expect(failureOf(r, 'missing')).toContain(`no file '${r.dir}/nope.lua'`);
    expect(failureOf(r, 'broken')).toContain("error loading module 'broken' from file");
    const raising = r.results.get('raising');
    expect(raising?.event === 'test_failed' && raising.error).toMatchObject({ message: 'from helper', location: { file: expect.stringMatching(/lib\/util\.lua$/), line: 1 } });
  });
});
