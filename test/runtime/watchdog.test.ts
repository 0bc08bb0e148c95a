/**
 * The per-file and per-test timeouts stop Lua that never yields, even when it
 * swallows the timeout with pcall/xpcall/coroutines or installs its own debug hook.
 */
import { afterAll, describe, expect, test } from 'vitest';
import { cleanupRuns, failureOf, runLua } from './helpers.js';

afterAll(cleanupRuns);

const LOOPS: [string, string][] = [
  ['while true do end', 'while true do end'],
  ['pcall around a loop, in a loop', 'while true do pcall(function() while true do end end) end'],
  ['xpcall with a handler', 'while true do xpcall(function() while true do end end, function(e) return e end) end'],
  ['a coroutine that catches', 'while true do local co = coroutine.wrap(function() while true do pcall(function() while true do end end) end end) pcall(co) end'],
  ['an error handler that loops', 'while true do xpcall(function() error("x") end, function() while true do end end) end'],
  ['pcall catching errors in a loop', 'while true do pcall(error) end'],
  ['a coroutine catching errors in a loop', 'coroutine.wrap(function() while true do pcall(error) end end)()'],
];

describe('per-test timeout (meta timeout)', () => {
  test.each(LOOPS)('%s fails that test; the file goes on', async (_name, loop) => {
    const r = await runLua(`
test("stuck", {timeout = "200ms"}, function(t)
  ${loop}
end)
test("next", function(t) t:assert(true) end)`);
    expect(failureOf(r, 'stuck')).toBe("test 'stuck' timed out after 200ms (the timeout in its meta)");
    expect(r.results.get('next')?.event).toBe('test_passed');
    expect(r.outcome).toMatchObject({ status: 'failed', passed: 1, failed: 1 });
  });

  test('stops a test waiting in a host call, at the author\'s line', async () => {
    const r = await runLua(`
test("waiting", {timeout = 0.2}, function(t)
  wait_until(function() return false end, {timeout = "1h", interval = "10ms"})
end)
test("next", function(t) end)`);
    expect(failureOf(r, 'waiting')).toContain('timed out after 200ms');
    const e = r.results.get('waiting');
    expect(e?.event === 'test_failed' && e.error.location).toEqual({ file: 'tests/main.test.lua', line: 3 });
    expect(r.results.get('next')?.event).toBe('test_passed');
  });

  test('is multiplied by --timeout-scale', async () => {
    const r = await runLua(`test("stuck", {timeout = "100ms"}, function(t) while true do end end)`, { timeoutScale: 2 });
    expect(failureOf(r, 'stuck')).toContain('timed out after 200ms');
  });

  test('an author\'s debug.sethook does not disable it, and the author\'s hook still runs', async () => {
    const r = await runLua(`
local counted = 0
test("hooked", {timeout = "200ms"}, function(t)
  debug.sethook(function(event) counted = counted + 1 end, "", 100)
  local f, mask, count = debug.gethook()
  t:assert_eq(type(f), "function") t:assert_eq(mask, "") t:assert_eq(count, 100)
  debug.sethook()
  t:assert_eq(debug.gethook(), nil)
  debug.sethook(function(event) counted = counted + 1 end, "l")
  while true do end
end)
test("hook ran", function(t) t:assert(counted > 0, "the author's hook was called") end)`);
    expect(failureOf(r, 'hooked')).toContain('timed out');
    expect(r.results.get('hook ran')?.event).toBe('test_passed');
  });
});

describe('per-file timeout', () => {
  test.each(LOOPS)('%s in a test ends the file as timed_out', async (_name, loop) => {
    const r = await runLua(`
test("stuck", function(t)
  ${loop}
end)
test("never runs", function(t) end)`, { fileTimeoutMs: 300 });
    expect(r.outcome.status).toBe('timed_out');
    expect(r.outcome.error?.message).toContain('file timed out after 300ms');
    expect(failureOf(r, 'stuck')).toContain('file timed out');
    expect(r.results.has('never runs')).toBe(false);
  });

  test('in top-level code', async () => {
    const r = await runLua(`local x = 0\nwhile true do x = x + 1 end`, { fileTimeoutMs: 200 });
    expect(r.outcome).toMatchObject({ status: 'timed_out', error: { location: { file: 'tests/main.test.lua', line: 2 } } });
  });

  test('provium.timeout sets it (scaled) and tells the main thread', async () => {
    const r = await runLua(`provium.timeout = "300ms"
assert(provium.timeout == 0.3)
test("stuck", function(t) while true do end end)`, { fileTimeoutMs: 60_000, timeoutScale: 2 });
    expect(r.messages[0]).toEqual({ kind: 'file_timeout', timeoutMs: 600 });
    expect(r.outcome.status).toBe('timed_out');
    expect(r.outcome.error?.message).toContain('file timed out after 600ms');
  });
});
