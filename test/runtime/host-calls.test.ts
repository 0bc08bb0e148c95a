/**
 * Host calls (functions that wait for the runner: os.execute, wait_until's
 * sleeps, io.popen reads) suspend the Lua thread and resume it transparently,
 * wherever Lua 5.3 can yield; where it cannot, they fail naming the construct.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { cleanupRuns, failureOf, runLua } from './helpers.js';

afterAll(cleanupRuns);

// `pause()` always suspends: os.execute waits for a real child process.
const PRELUDE = `
local function pause(v) local ok, how, code = os.execute("exit 0"); assert(ok == true and how == "exit" and code == 0); return v end
`;

describe('host calls suspend and resume the Lua thread', () => {
  test('at top level and in a test', async () => {
    const r = await runLua(`${PRELUDE}
local top = pause("top")
test("plain", function(t)
  t:assert_eq(top, "top")
  t:assert_eq(pause(42), 42)
  -- a sleep of wait_until: the predicate is called again after yielding to the runner
  local calls = 0
  local v = wait_until(function() calls = calls + 1; return calls >= 3 and "ready" end, {interval = "1ms"})
  t:assert_eq(v, "ready")
  t:assert_eq(calls, 3)
end)`);
    expect(r.outcome).toMatchObject({ status: 'passed', passed: 1 });
  });

  test('keep the event loop free: it turns while os.execute waits for its command', async () => {
    // The command holds a marker file while it runs; a 1 ms interval counts its turns that see it.
    const dir = mkdtempSync(path.join(tmpdir(), 'provium-loop-'));
    const marker = path.join(dir, 'running');
    let turnsDuring = 0;
    const tick = setInterval(() => {
      if (existsSync(marker)) turnsDuring++;
    }, 1);
    try {
      const r = await runLua(`test("waits", function(t)
  t:assert(os.execute("touch '${marker}' && sleep 0.2 && rm '${marker}'"))
end)`);
      expect(r.outcome).toMatchObject({ status: 'passed', passed: 1 });
    } finally {
      clearInterval(tick);
      rmSync(dir, { recursive: true, force: true });
    }
    expect(turnsDuring).toBeGreaterThan(0);
  });

  test('inside the author\'s coroutines (wrap, resume, nested), mixed with their own yields', async () => {
    const r = await runLua(`${PRELUDE}
test("wrap", function(t)
  local gen = coroutine.wrap(function()
    for i = 1, 3 do coroutine.yield(pause(i) * 10) end
    return "end"
  end)
  t:assert_eq({gen(), gen(), gen(), gen()}, {10, 20, 30, "end"})
end)
test("resume", function(t)
  local co = coroutine.create(function(a, b)
    local c = coroutine.yield(pause(a + b))
    pause()
    return c * 2
  end)
  local ok, v = coroutine.resume(co, 1, 2)
  t:assert(ok) t:assert_eq(v, 3)
  t:assert_eq(coroutine.status(co), "suspended")
  local ok2, v2 = coroutine.resume(co, 5)
  t:assert(ok2) t:assert_eq(v2, 10)
  t:assert_eq(coroutine.status(co), "dead")
end)
test("nested", function(t)
  local inner = coroutine.wrap(function() coroutine.yield(pause("a")) coroutine.yield(pause("b")) end)
  local outer = coroutine.wrap(function() while true do local v = inner() if not v then break end coroutine.yield(v .. pause("!")) end end)
  t:assert_eq(outer(), "a!")
  t:assert_eq(outer(), "b!")
end)
test("errors inside a coroutine after a host call", function(t)
  local co = coroutine.create(function() pause() error("boom", 0) end)
  local ok, err = coroutine.resume(co)
  t:assert_eq(ok, false) t:assert_eq(err, "boom")
  local w = coroutine.wrap(function() pause() error("bang", 0) end)
  t:assert_eq(select(2, pcall(w)), "bang")
end)
test("yield outside a coroutine is an error", function(t)
  local ok, err = pcall(coroutine.yield, 1)
  t:assert_eq(ok, false)
  t:assert_contains(err, "attempt to yield from outside a coroutine")
  t:assert_eq(coroutine.isyieldable(), false)
  local _, main = coroutine.running()
  t:assert_eq(main, true)
end)`);
    expect(r.outcome).toMatchObject({ status: 'passed', passed: 5 });
  });

  test('inside pcall, xpcall, metamethods, iterators and require', async () => {
    const r = await runLua({
      'main.test.lua': `${PRELUDE}
test("pcall", function(t)
  t:assert_eq({pcall(pause, 7)}, {true, 7})
  local ok, err = pcall(function() pause() error("after", 0) end)
  t:assert_eq({ok, err}, {false, "after"})
  t:assert_eq({xpcall(pause, debug.traceback, 8)}, {true, 8})
  local ok2, msg = xpcall(function() pause() error("x", 0) end, function(m) return "handled " .. m end)
  t:assert_eq({ok2, msg}, {false, "handled x"})
end)
test("metamethods", function(t)
  local mt = {}
  mt.__index = function(_, k) return pause(k .. "!") end
  mt.__add = function(a, b) return pause(5) end
  mt.__lt = function(a, b) return pause(true) end
  mt.__concat = function(a, b) return pause("cat") end
  mt.__call = function(self, x) return pause(x * 2) end
  mt.__eq = function(a, b) return pause(true) end
  local a, b = setmetatable({}, mt), setmetatable({}, mt)
  t:assert_eq(a.key, "key!")
  t:assert_eq(a + 1, 5)
  t:assert_eq(a < b, true)
  t:assert_eq(a .. "x", "cat")
  t:assert_eq(a(21), 42)
  t:assert(a == b)
end)
test("generic for iterator", function(t)
  local function iter(_, i) if i < 3 then return pause(i + 1) end end
  local seen = {}
  for i in iter, nil, 0 do seen[#seen + 1] = i end
  t:assert_eq(seen, {1, 2, 3})
end)
test("require", function(t)
  local helper = require("helpers.slow")
  t:assert_eq(helper.value, "loaded after a host call")
  t:assert_eq(helper.later(), 99)
end)`,
      'helpers/slow.lua': `local ok = os.execute("exit 0")
assert(ok)
return { value = "loaded after a host call", later = function() os.execute("exit 0") return 99 end }`,
    });
    expect([...r.results.values()].map((e) => [e.test, e.event])).toEqual([
      ['pcall', 'test_passed'],
      ['metamethods', 'test_passed'],
      ['generic for iterator', 'test_passed'],
      ['require', 'test_passed'],
    ]);
  });

  test('a failing host call raises at the author\'s line', async () => {
    const r = await runLua(`test("popen on a closed handle", function(t)
  local f = io.popen("echo hi")
  f:close()
  f:read("a")
end)`);
    expect(failureOf(r, 'popen on a closed handle')).toBe('attempt to use a closed file');
    const e = r.results.get('popen on a closed handle');
    expect(e?.event === 'test_failed' && e.error.location).toEqual({ file: 'tests/main.test.lua', line: 4 });
  });
});

describe('where Lua cannot yield, host calls fail naming the construct', () => {
  const cases: [string, string, string][] = [
    ['table.sort comparator', 'table.sort({3, 1, 2}, function(a, b) os.execute("exit 0") return a < b end)', 'os.execute cannot be called inside a table.sort comparator'],
    ['string.gsub callback', 'string.gsub("abc", "b", function(c) os.execute("exit 0") return c end)', 'os.execute cannot be called inside a string.gsub replacement function'],
    ['__tostring via tostring', 'tostring(setmetatable({}, {__tostring = function() os.execute("exit 0") return "x" end}))', 'os.execute cannot be called inside a __tostring metamethod called by tostring'],
    ['__index via table.concat', 'table.concat(setmetatable({}, {__index = function() os.execute("exit 0") return "x" end, __len = function() return 1 end}))', 'os.execute cannot be called inside a callback or metamethod called by table.concat'],
    ['load reader', 'assert(load(function() os.execute("exit 0") return nil end))', 'os.execute cannot be called inside a load() reader function'],
    ['wait_until sleeping in a sort', 'table.sort({3, 1, 2}, function(a, b) local n = 0 wait_until(function() n = n + 1 return n > 1 end) return a < b end)', 'wait_until cannot be called inside a table.sort comparator'],
    ['coroutine resumed in a comparator', 'table.sort({3, 1, 2}, function(a, b) coroutine.wrap(function() os.execute("exit 0") end)() return a < b end)', 'os.execute cannot be called inside a table.sort comparator'],
    ['debug hook', 'debug.sethook(function() debug.sethook() os.execute("exit 0") end, "l") local x = 1', 'os.execute cannot be called inside a debug hook function'],
  ];
  test.each(cases)('%s', async (_name, code, expected) => {
    const r = await runLua(`test("x", function(t)\n  ${code}\nend)`);
    const message = failureOf(r, 'x');
    expect(message).toContain(expected);
    expect(message).toContain('move the call outside');
    expect(message).not.toContain('attempt to yield');
  });

  test('the same calls work outside those constructs in the same test', async () => {
    const r = await runLua(`test("x", function(t)
  local ok, err = pcall(table.sort, {2, 1}, function(a, b) os.execute("exit 0") return a < b end)
  t:assert_eq(ok, false)
  t:assert_contains(err, "table.sort comparator")
  t:assert_eq(os.execute("exit 0"), true)
end)`);
    expect(r.outcome.status).toBe('passed');
  });
});
