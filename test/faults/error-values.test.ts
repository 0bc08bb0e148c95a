/** An error raised with a table, not a string, is reported by its contents (or its __tostring), not as `table: 0x…`. */
import { describe, expect, it } from 'vitest';
import type { FileCompleted, TestFailed } from '@provium/types';
import { events, project } from '../cli/helpers.js';

describe('error objects', () => {
  it('show their fields, bounded in length, or their __tostring', async () => {
    const file = [
      'test("fields", function(t) error({code = 3, msg = "x"}) end)',
      'test("empty", function(t) error({}) end)',
      'test("looks located", function(t) error({at = "x.lua:3: y"}) end)',
      'test("list and nested", function(t) error({"a", "b", where = {line = 7}}) end)',
      'test("huge", function(t) local e = {} for i = 1, 500 do e["key" .. i] = ("v"):rep(100) end error(e) end)',
      'test("tostring", function(t) error(setmetatable({code = 3}, {__tostring = function(e) return "E" .. e.code end})) end)',
      'test("bad tostring", function(t) error(setmetatable({}, {__tostring = function() error("oops") end})) end)',
    ].join('\n');
    const { events: ev } = await events(project({ 'tests/e.test.lua': file, 'tests/top.test.lua': 'error({reason = "top-level"})\n' }));
    const failure = (name: string) => ev.find((e): e is TestFailed => e.event === 'test_failed' && e.test === name)?.error.message;
    expect(failure('fields')).toBe('{code = 3, msg = "x"}');
    expect(failure('empty')).toBe('{}');
    expect(failure('looks located')).toBe('{at = "x.lua:3: y"}');
    expect(failure('list and nested')).toBe('{"a", "b", where = {line = 7}}');
    expect(failure('huge')).toMatch(/^\{key1 = "v{100}", key10 = .*\.\.\. \(\d+ characters\)$/);
    expect(failure('huge')!.length).toBeLessThan(600);
    expect(failure('tostring')).toBe('E3');
    expect(failure('bad tostring')).toBe('(error object is a table value whose __tostring failed: oops)');
    const top = ev.find((e): e is FileCompleted => e.event === 'file_completed' && e.file === 'tests/top.test.lua');
    expect(top?.error?.message).toBe('{reason = "top-level"}');
  });
});
