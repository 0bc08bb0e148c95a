/**
 * Lua code that catches errors in a loop cannot swallow the watchdog: the file
 * is stopped by the watchdog's own timeout (its message), not by the main
 * thread's fallback that terminates the worker 5 s later.
 */
import { describe, expect, it } from 'vitest';
import type { FileCompleted, TestFailed } from '@provium/types';
import { events, project } from '../cli/helpers.js';

const CATCHERS: Record<string, string> = {
  pcall: 'while true do pcall(error) end',
  'pcall with a table': 'while true do pcall(error, {}) end',
  xpcall: 'while true do xpcall(error, function(e) return e end) end',
  'coroutine.wrap': 'coroutine.wrap(function() while true do pcall(error) end end)()',
  'coroutine.resume': 'while true do coroutine.resume(coroutine.create(error)) end',
  'pcall of a wrapped coroutine': 'while true do pcall(coroutine.wrap(error)) end',
  't:assert_raises': 'while true do t:assert_raises(error) end',
};

const fileOf = (name: string) => `tests/${name.replace(/\W+/g, '_')}.test.lua`;

describe('a loop that catches errors', () => {
  it('is stopped by the per-file timeout of the watchdog', async () => {
    const files = Object.fromEntries(Object.entries(CATCHERS).map(([name, loop]) => [fileOf(name), `test("loop", function(t) ${loop} end)\n`]));
    const { events: ev } = await events(project(files), '--timeout', '1s', '-j2');
    for (const name of Object.keys(CATCHERS)) {
      const done = ev.find((e): e is FileCompleted => e.event === 'file_completed' && e.file === fileOf(name));
      expect(done, name).toMatchObject({ status: 'timed_out', error: { message: 'file timed out after 1s (provium.timeout / --timeout)' } });
    }
  });

  it('is stopped by a test\'s own timeout, and the next test runs', async () => {
    const tests = Object.entries(CATCHERS).map(([name, loop]) => `test(${JSON.stringify(name)}, { timeout = "200ms" }, function(t) ${loop} end)`);
    // --timeout bounds a loop the watchdog would miss (the file would wait for the fallback)
    const { events: ev } = await events(project({ 'tests/all.test.lua': [...tests, 'test("after", function(t) end)'].join('\n') }), '--timeout', '20s');
    for (const name of Object.keys(CATCHERS)) {
      const failed = ev.find((e): e is TestFailed => e.event === 'test_failed' && e.test === name);
      expect(failed?.error.message, name).toBe(`test '${name}' timed out after 200ms (the timeout in its meta)`);
    }
    expect(ev.some((e) => e.event === 'test_passed' && e.test === 'after')).toBe(true);
  });
});
