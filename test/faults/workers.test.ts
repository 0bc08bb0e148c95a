/**
 * A worker thread that dies (out of memory, or terminated by the fallback of the
 * per-file timeout) takes the file it ran with it, and only that file: the
 * files queued behind it on its thread run elsewhere, once each.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunCompleted } from '@provium/types';
import { project, proviumWithEnv } from '../cli/helpers.js';

// Fault injection: with PROVIUM_WORKER_MAX_HEAP_MB=32, this file's worker runs out of memory.
const HOG = 'test("hog", function(t)\n  local keep = {}\n  for i = 1, 1e9 do keep[i] = {i} end\nend)\n';
// One library call that backtracks for ages: the watchdog cannot stop it, the fallback terminates the worker.
const NATIVE = 'test("backtrack", function(t)\n  string.find(("a"):rep(40), ("a?"):rep(40) .. ("a"):rep(40))\nend)\n';

/** A file that appends its name to side.log in top-level code and in its test. */
const recorder = (log: string, name: string) =>
  `local function note(what) local f = assert(io.open(${JSON.stringify(log)}, "a")) f:write(what, "\\n") f:close() end\nnote("${name} top")\ntest("t", function(t) note("${name} test") end)\n`;

async function run(files: (log: string) => Record<string, string>, ...args: string[]) {
  const log = path.join(project({}), 'side.log');
  const r = await proviumWithEnv(project(files(log)), { PROVIUM_WORKER_MAX_HEAP_MB: '32' }, 'test', '--json', ...args);
  const summary = JSON.parse(r.stdout.trimEnd().split('\n').at(-1)!) as RunCompleted;
  return { summary, notes: readFileSync(log, 'utf8').trimEnd().split('\n').sort() };
}

describe('a worker thread that dies', () => {
  it('-j1: the files queued behind it run once each', async () => {
    const { summary, notes } = await run(
      (log) => ({
        'tests/0-hog.test.lua': HOG,
        'tests/1-a.test.lua': recorder(log, 'a'),
        'tests/2-native.test.lua': NATIVE,
        'tests/3-b.test.lua': recorder(log, 'b'),
        'tests/4-c.test.lua': recorder(log, 'c'),
      }),
      '-j1',
      '--timeout',
      '1s',
    );
    expect(notes).toEqual(['a test', 'a top', 'b test', 'b top', 'c test', 'c top']);
    expect(summary).toMatchObject({ files: 5, passed: 3, failed: 2, failed_files: 2, not_run: 0 });
  });

  it('-j2: a file queued behind it is not run again by the other thread', async () => {
    // Thread 0 gets the hog and, queued behind it, a; thread 1 gets wait (busy until a has run) and b.
    const { summary, notes } = await run(
      (log) => ({
        'tests/0-hog.test.lua': HOG,
        'tests/1-a.test.lua': recorder(log, 'a'),
        'tests/2-wait.test.lua': `test("until a ran", function(t)\n  wait_until(function() local f = io.open(${JSON.stringify(log)}) if f then f:close() return true end end, { timeout = "60s", interval = "20ms" })\nend)\n`,
        'tests/3-b.test.lua': recorder(log, 'b'),
      }),
      '-j2',
    );
    expect(notes).toEqual(['a test', 'a top', 'b test', 'b top']);
    expect(summary).toMatchObject({ files: 4, passed: 3, failed_files: 1, not_run: 0 });
  });
});
