/** The test framework as authors use it: test/meta/todo, t:, wait_until, file settings, failures and events. */
import { afterAll, describe, expect, test } from 'vitest';
import { cleanupRuns, failureOf, runLua } from './helpers.js';

afterAll(cleanupRuns);

describe('registration, meta and selection', () => {
  const FILE = `
test("plain", function(t) t:assert_eq(t.name, "plain") t:assert_eq(t.meta.owner, nil) t.meta.note = 1 t:assert_eq(t.meta.note, 1) end)
test("tagged", {tags = {"net", "fast"}, owner = "ana", ticket = 12}, function(t)
  t:assert_eq(t.meta.owner, "ana")
  t:assert_eq(t.meta.tags, {"net", "fast"})
end)
test("slow one", {slow = true}, function(t) end)
test("skipped", {skip = "flaky on CI"}, function(t) error("must not run") end)
test("other", {tags = {"disk"}}, function(t) end)`;

  test('tests run in file order after the top-level code; meta is reported in events', async () => {
    const r = await runLua(FILE);
    expect(r.events.map((e) => `${e.event} ${e.test}`)).toEqual([
      'test_started plain',
      'test_passed plain',
      'test_started tagged',
      'test_passed tagged',
      'test_skipped slow one',
      'test_skipped skipped',
      'test_started other',
      'test_passed other',
    ]);
    expect(r.results.get('tagged')?.meta).toEqual({ tags: ['net', 'fast'], owner: 'ana', ticket: 12 });
    expect(r.results.get('slow one')).toMatchObject({ reason: 'slow test: run with --include-slow', meta: { slow: true } });
    expect(r.results.get('skipped')).toMatchObject({ reason: 'flaky on CI' });
    expect(r.outcome).toMatchObject({ status: 'passed', passed: 3, skipped: 2, failed: 0 });
    for (const e of r.events) expect(Date.parse(e.timestamp)).not.toBeNaN();
  });

  test('--filter matches the test name, or the file path (then every test runs)', async () => {
    const byName = await runLua(FILE, { selection: { filter: 'ther' } });
    expect([...byName.results.keys()]).toEqual(['other']);
    const byPath = await runLua(FILE, { selection: { filter: 'main.test' } });
    expect(byPath.results.size).toBe(5);
    const none = await runLua(FILE, { selection: { filter: 'zzz' } });
    expect(none.outcome).toMatchObject({ status: 'empty', passed: 0 });
  });

  test('--tag, --no-tag and --include-slow', async () => {
    const tag = await runLua(FILE, { selection: { tags: ['net', 'disk'] } });
    expect([...tag.results.keys()]).toEqual(['tagged', 'other']);
    const noTag = await runLua(FILE, { selection: { noTags: ['fast'] } });
    expect([...noTag.results.keys()]).not.toContain('tagged');
    const slow = await runLua(FILE, { selection: { includeSlow: true } });
    expect(slow.results.get('slow one')?.event).toBe('test_passed');
  });

  test('todo() skips every test with its reason', async () => {
    const r = await runLua(`todo("waiting for the new kernel")\ntest("a", function() error("no") end)\ntest("b", function() end)`);
    expect(r.events.map((e) => [e.event, e.event === 'test_skipped' && e.reason])).toEqual([
      ['test_skipped', 'waiting for the new kernel'],
      ['test_skipped', 'waiting for the new kernel'],
    ]);
    expect(r.outcome.status).toBe('skipped');
  });

  test('duplicate names are an error naming the name and both lines', async () => {
    const r = await runLua(`test("same", function() end)\n\ntest("same", function() end)`);
    expect(r.outcome.status).toBe('error');
    expect(r.outcome.error).toMatchObject({
      message: "duplicate test name 'same': first defined at tests/main.test.lua:1, again at tests/main.test.lua:3; test names must be unique in a file",
      location: { file: 'tests/main.test.lua', line: 3 },
    });
  });

  test('test() and todo() only at top level', async () => {
    const r = await runLua(`test("outer", function(t) test("inner", function() end) end)\ntest("t2", function(t) todo() end)`);
    expect(failureOf(r, 'outer')).toBe("test() must be called in the file's top-level code, not inside test 'outer'");
    expect(failureOf(r, 't2')).toContain('todo() must be called');
  });

  test('bad meta and bad arguments name the function, parameter, expected and actual type', async () => {
    const cases: [string, string][] = [
      ['test("x", {timeout = "5x"}, function() end)', `test: bad argument #2 'meta': field 'timeout': invalid duration "5x": expected a number of seconds or a string with a unit: "500ms", "5s", "2m", "1h"`],
      ['test("x", {tags = "net"}, function() end)', "test: bad argument #2 'meta': field 'tags': expected string[], got string"],
      ['test("x")', "test: bad argument #2 'fn': expected function, got no value"],
      ['test(1, function() end)', "test: bad argument #1 'name': expected string, got number"],
      ['wait_until(function() return true end, "5s")', "wait_until: bad argument #2 'opts': expected WaitUntilOpts, got string"],
      ['wait_until(function() return true end, {tmeout = 1})', "wait_until: bad argument #2 'opts': unknown field 'tmeout' (WaitUntilOpts has: timeout, interval, desc)"],
      ['wait_until(function() return true end, {interval = -1})', "wait_until: bad argument #2 'opts': field 'interval': invalid duration -1"],
    ];
    for (const [code, message] of cases) {
      const r = await runLua(code);
      expect(r.outcome.status, code).toBe('error');
      expect(r.outcome.error?.message, code).toContain(message);
      expect(r.outcome.error?.location, code).toEqual({ file: 'tests/main.test.lua', line: 1 });
    }
  });
});

describe('t: assertions and failures', () => {
  test('messages show both values, the msg, and the author\'s line with a traceback', async () => {
    const r = await runLua(`
test("eq", function(t)
  t:assert_eq("apple", "orange", "fruit")
end)
test("eq deep", function(t) t:assert_eq({1, {a = 2}}, {1, {a = 3}}) end)
test("eq types", function(t) t:assert_eq(1, "1") end)
test("neq", function(t) t:assert_neq({x = 1}, {x = 1}) end)
test("assert", function(t) t:assert(nil, "disk full") end)
test("contains str", function(t) t:assert_contains("hello world", "xyz") end)
test("contains list", function(t) t:assert_contains({1, 2}, 3) end)
test("raises", function(t) t:assert_raises(function() end) end)
test("fail", function(t) t:fail("explicit") end)
test("error", function(t) local x = nil; return x.field end)
test("error table", function(t) error(setmetatable({}, {__tostring = function() return "custom error" end})) end)`);
    expect(failureOf(r, 'eq')).toBe('assert_eq failed: apple ~= orange: fruit');
    expect(failureOf(r, 'eq deep')).toBe('assert_eq failed: {1, {a = 2}} ~= {1, {a = 3}} (at [2].a: 2 ~= 3)');
    expect(failureOf(r, 'eq types')).toBe('assert_eq failed: 1 ~= "1"');
    expect(failureOf(r, 'neq')).toBe('assert_neq failed: both values are {x = 1}');
    expect(failureOf(r, 'assert')).toBe('disk full');
    expect(failureOf(r, 'contains str')).toBe('assert_contains failed: "hello world" does not contain "xyz"');
    expect(failureOf(r, 'contains list')).toBe('assert_contains failed: {1, 2} has no element equal to 3');
    expect(failureOf(r, 'raises')).toBe('assert_raises failed: the function returned without raising an error');
    expect(failureOf(r, 'fail')).toBe('explicit');
    expect(failureOf(r, 'error')).toBe("attempt to index a nil value (local 'x')");
    expect(failureOf(r, 'error table')).toBe('custom error');
    const eq = r.results.get('eq');
    expect(eq?.event === 'test_failed' && eq.error.location).toEqual({ file: 'tests/main.test.lua', line: 3 });
    expect(eq?.event === 'test_failed' && eq.error.traceback).toContain('tests/main.test.lua:3:');
    const err = r.results.get('error');
    expect(err?.event === 'test_failed' && err.error.location).toEqual({ file: 'tests/main.test.lua', line: 13 });
  });

  test('passing assertions, deep equality, assert_raises returning the error, t:log', async () => {
    const r = await runLua(`test("ok", function(t)
  t:assert(1)
  t:assert_eq({a = {1, 2}, b = "x"}, {b = "x", a = {1, 2}})
  t:assert_eq(1, 1.0)
  local cyc1, cyc2 = {}, {}
  cyc1.self, cyc2.self = cyc1, cyc2
  t:assert_eq(cyc1, cyc2)
  t:assert_neq({1}, {2})
  t:assert_contains("a.b", ".")
  t:assert_contains({{1}, {2}}, {2})
  local err = t:assert_raises(function() error({code = 7}) end)
  t:assert_eq(err.code, 7)
  t:assert_eq(t:assert_raises(function() error("plain", 0) end), "plain")
  t:assert_raises(function() t:assert_eq(1, 2) end, "an expected assertion failure does not fail the test")
  t:log("a note") t:log(42)
end)`);
    const ok = r.results.get('ok');
    expect(ok?.event).toBe('test_passed');
    expect(ok?.event === 'test_passed' && ok.log).toEqual(['a note', '42']);
  });

  test('a failed assertion swallowed by pcall still fails the test (first failure wins)', async () => {
    const r = await runLua(`test("swallowed", function(t)
  local ok = pcall(t.assert_eq, t, 1, 2)
  pcall(function() t:fail("second") end)
  t:assert_eq(ok, false)
end)`);
    expect(failureOf(r, 'swallowed')).toBe('assert_eq failed: 1 ~= 2');
  });

  test('t:skip stops the test, even through pcall', async () => {
    const r = await runLua(`test("s", function(t) pcall(t.skip, t, "no network") error("not reached") end)\ntest("n", function(t) end)`);
    expect(r.results.get('s')).toMatchObject({ event: 'test_skipped', reason: 'no network' });
    expect(r.results.get('n')?.event).toBe('test_passed');
  });

  test('a t kept from an ended test refuses to record', async () => {
    const r = await runLua(`local saved\ntest("a", function(t) saved = t end)\ntest("b", function(t) saved:assert(false) end)`);
    expect(failureOf(r, 'b')).toBe("this t belongs to test 'a', which has ended: use the t passed to the running test");
  });

  test('unknown and misused members', async () => {
    const r = await runLua(`
test("typo", function(t) t:assert_equal(1, 1) end)
test("dot", function(t) t.assert(true) end)
test("set", function(t) t.name = "x" end)
test("bad arg", function(t) t:assert_contains(1, 2) end)`);
    expect(failureOf(r, 'typo')).toBe("t has no field or method 'assert_equal' (methods: assert, assert_eq, assert_neq, assert_contains, assert_raises, fail, skip, log; fields: name, meta)");
    expect(failureOf(r, 'dot')).toContain("t:assert: call it as a method, with ':' (t:assert(...)), not '.'");
    expect(failureOf(r, 'set')).toBe('t.name cannot be set: t has no settable fields');
    expect(failureOf(r, 'bad arg')).toBe("t:assert_contains: bad argument #1 'haystack': expected string or table, got number");
  });
});

describe('wait_until', () => {
  test('returns the truthy value; times out naming desc; errors in pred propagate at once', async () => {
    const r = await runLua(`
test("value", function(t)
  local n = 0
  t:assert_eq(wait_until(function() n = n + 1; return n == 3 and {n = n} end, {interval = 0.001}), {n = 3})
end)
test("timeout", function(t)
  wait_until(function() return false end, {timeout = "50ms", interval = "10ms", desc = "the service to answer"})
end)
test("pred error", function(t)
  local calls = 0
  local ok, err = pcall(wait_until, function() calls = calls + 1; error("broken", 0) end)
  t:assert_eq({ok, err, calls}, {false, "broken", 1})
end)`);
    expect(r.results.get('value')?.event).toBe('test_passed');
    expect(failureOf(r, 'timeout')).toBe('wait_until timed out after 50ms waiting for the service to answer');
    const e = r.results.get('timeout');
    expect(e?.event === 'test_failed' && e.error.location).toEqual({ file: 'tests/main.test.lua', line: 7 });
    expect(r.results.get('pred error')?.event).toBe('test_passed');
  });

  test('its timeout is scaled by --timeout-scale', async () => {
    const r = await runLua(`test("t", function() wait_until(function() return false end, {timeout = "20ms"}) end)`, { timeoutScale: 3 });
    expect(failureOf(r, 't')).toContain('timed out after 60ms');
  });
});

describe('file settings and the provium global', () => {
  test('provium.timeout, reset_between_tests, other keys', async () => {
    const r = await runLua(`
provium.timeout = 120
provium.reset_between_tests = false
test("timeout read back", function(t) t:assert_eq(provium.timeout, 120) end)
test("reset true", function(t) provium.reset_between_tests = true end)
test("other key", function(t) provium.retries = 3 end)
test("bad timeout", function(t) provium.timeout = "soon" end)
test("field read", function(t) t:assert_eq(provium.reset_between_tests, false) end)
test("tostring", function(t) t:assert_eq(tostring(provium), "Lab: provium") t:assert_eq(getmetatable(provium), "Lab") end)`);
    expect(r.messages[0]).toEqual({ kind: 'file_timeout', timeoutMs: 120_000 });
    expect(r.results.get('timeout read back')?.event).toBe('test_passed');
    expect(failureOf(r, 'reset true')).toContain('provium.reset_between_tests is a file setting: set it in top-level code, not inside a test');
    expect(failureOf(r, 'other key')).toBe('provium.retries cannot be set: the settable fields are: reset_between_tests, timeout');
    expect(failureOf(r, 'bad timeout')).toContain('provium.timeout: invalid duration "soon"');
    expect(r.results.get('field read')?.event).toBe('test_passed');
    expect(r.results.get('tostring')?.event).toBe('test_passed');
  });
});

describe('file-level outcomes', () => {
  test('a syntax error reports file:line for that file only', async () => {
    const r = await runLua(`test("a", function() end)\nlocal x = = 1`);
    expect(r.outcome).toMatchObject({ status: 'error', passed: 0, error: { message: "unexpected symbol near '='", location: { file: 'tests/main.test.lua', line: 2 } } });
    expect(r.events).toEqual([]);
  });

  test('an error in top-level code ends the file with status error; no test runs', async () => {
    const r = await runLua(`test("a", function() end)\nerror("setup failed")`);
    expect(r.outcome).toMatchObject({ status: 'error', error: { message: 'setup failed', location: { file: 'tests/main.test.lua', line: 2 } } });
    expect(r.outcome.error?.traceback).toContain('stack traceback');
    expect(r.events).toEqual([]);
  });

  test('a file without tests is empty; a shebang line is allowed', async () => {
    const r = await runLua(`#!/usr/bin/env provium\nprint("hello")`);
    expect(r.outcome).toMatchObject({ status: 'empty', log: ['hello'] });
  });

  test('a missing file is an error naming it', async () => {
    const { runLuaFile } = await import('../../runner/src/worker/run-file.js');
    const o = await runLuaFile({ file: '/nonexistent/x.test.lua', displayPath: 'x.test.lua', roots: [], selection: { tags: [], noTags: [], includeSlow: false }, fileTimeoutMs: 1000, timeoutScale: 1, workerIndex: 0 }, () => {});
    expect(o).toMatchObject({ status: 'error' });
    expect(o.error?.message).toContain('/nonexistent/x.test.lua');
  });
});
