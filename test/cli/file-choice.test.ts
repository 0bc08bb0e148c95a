/** `--rerun-failed` and `--since`: which files a run takes. */
import { mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { RunEvent } from '@provium/types';
import { project, proviumWithEnv } from './helpers.js';

const PASS = 'test("ok", function(t) end)\n';
const FAIL = 'test("bad", function(t) t:fail("no") end)\n';

const started = (stdout: string) =>
  stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as RunEvent)
    .filter((e) => e.event === 'file_started')
    .map((e) => (e as { file: string }).file)
    .sort();

describe('--rerun-failed', () => {
  it('runs the files that failed in the last run with failures; a clean run keeps that record', async () => {
    const stateDir = mkdtempSync(path.join(tmpdir(), 'provium-rerun-'));
    onTestFinished(() => rmSync(stateDir, { recursive: true, force: true }));
    const env = { PROVIUM_RERUN_STATE: path.join(stateDir, 'sub', 'rerun.json') };
    const dir = project({ 'tests/a.test.lua': PASS, 'tests/b.test.lua': FAIL, 'tests/c.test.lua': 'error("top-level")\n' });

    const first = await proviumWithEnv(dir, env, 'test', '--json');
    expect(first.code).toBe(1);
    expect(JSON.parse(readFileSync(env.PROVIUM_RERUN_STATE, 'utf8'))).toEqual([path.join(dir, 'tests/b.test.lua'), path.join(dir, 'tests/c.test.lua')]);

    const again = await proviumWithEnv(dir, env, 'test', '--json', '--rerun-failed');
    expect(again.code).toBe(1);
    expect(started(again.stdout)).toEqual(['tests/b.test.lua', 'tests/c.test.lua']);

    writeFileSync(path.join(dir, 'tests/b.test.lua'), PASS);
    writeFileSync(path.join(dir, 'tests/c.test.lua'), PASS);
    const fixed = await proviumWithEnv(dir, env, 'test', '--json', '--rerun-failed');
    expect(fixed.code).toBe(0);
    expect(started(fixed.stdout)).toEqual(['tests/b.test.lua', 'tests/c.test.lua']);
    expect(JSON.parse(readFileSync(env.PROVIUM_RERUN_STATE, 'utf8'))).toHaveLength(2); // written only by runs with failures

    // Only the selected files: under tests/a.test.lua none failed.
    const elsewhere = await proviumWithEnv(dir, env, 'test', '--rerun-failed', 'tests/a.test.lua');
    expect(elsewhere.code).toBe(0);
    expect(elsewhere.stderr).toContain('none of the 2 files that failed last run');
    expect(elsewhere.stdout).toBe('');
  });

  it('with no state it says so and exits 0; a state it cannot read is an error naming it', async () => {
    const stateDir = mkdtempSync(path.join(tmpdir(), 'provium-rerun-'));
    onTestFinished(() => rmSync(stateDir, { recursive: true, force: true }));
    const state = path.join(stateDir, 'rerun.json');
    const dir = project({ 'tests/a.test.lua': PASS });
    const none = await proviumWithEnv(dir, { PROVIUM_RERUN_STATE: state }, 'test', '--rerun-failed');
    expect(none.code).toBe(0);
    expect(none.stderr).toContain(`--rerun-failed: no failed files are recorded in ${state} (a run with failures records them): nothing to re-run`);
    expect(none.stdout).toBe('');
    writeFileSync(state, '{"not": "a list"}');
    const bad = await proviumWithEnv(dir, { PROVIUM_RERUN_STATE: state }, 'test', '--rerun-failed');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(`--rerun-failed: ${state} is not a rerun state`);
  });
});

describe('--since PATH', () => {
  it('runs only the test files modified after PATH was', async () => {
    const dir = project({ 'tests/old.test.lua': PASS, 'tests/new.test.lua': PASS, 'ref.txt': '' });
    const at = (rel: string, seconds: number) => utimesSync(path.join(dir, rel), seconds, seconds);
    at('tests/old.test.lua', 1_000_000);
    at('ref.txt', 2_000_000);
    at('tests/new.test.lua', 3_000_000);
    const r = await proviumWithEnv(dir, {}, 'test', '--json', '--since', 'ref.txt');
    expect(r.code).toBe(0);
    expect(started(r.stdout)).toEqual(['tests/new.test.lua']);

    at('ref.txt', 4_000_000);
    const none = await proviumWithEnv(dir, {}, 'test', '--since', 'ref.txt');
    expect(none.code).toBe(0);
    expect(none.stderr).toContain('--since ref.txt: no selected test file was modified after it');

    const missing = await proviumWithEnv(dir, {}, 'test', '--since', 'nope.txt');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--since nope.txt: cannot read its modification time: no such file or directory');
  });
});
