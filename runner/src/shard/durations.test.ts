// Recorded times from real files: what --save-durations writes, and event streams.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunEvent } from '@provium/types';
import { UsageError } from '../errors.js';
import { DurationsRecorder } from './durations-recorder.js';
import { readDurations } from './durations.js';

const dir = mkdtempSync(path.join(tmpdir(), 'provium-durations-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const p = path.join(dir, name);
  mkdirSync(path.dirname(p), { recursive: true });
  writeFileSync(p, text);
  return p;
}

const ts = '2026-01-01T00:00:00.000Z';
const completed = (file: string, duration_ms: number, status = 'passed') => ({ event: 'file_completed', timestamp: ts, file, status, duration_ms, passed: 1, failed: 0, skipped: 0, log: [] });
const lines = (...events: object[]) => events.map((e) => JSON.stringify(e)).join('\n') + '\n';

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return (e as Error).message;
  }
  throw new Error('expected a UsageError');
}

describe('readDurations', () => {
  it('reads back what --save-durations wrote', () => {
    const out = path.join(dir, 'saved.json');
    const rec = new DurationsRecorder(out, (f) => `root/${f}`);
    const events = [
      completed('tests/b.test.lua', 20),
      completed('tests/a.test.lua', 10),
      completed('tests/c.test.lua', 5, 'cancelled'),
      { event: 'fixture_build_done', timestamp: ts, fixture: 'fixtures/base', key: 'k', ok: true, duration_ms: 3000, bytes: 1 },
      { event: 'fixture_build_done', timestamp: ts, fixture: 'fixtures/broken', key: 'k', ok: false, duration_ms: 7, bytes: 0 },
    ] as RunEvent[];
    events.forEach((e) => rec.onEvent(e));
    rec.close();
    const d = readDurations([out], { cwd: dir, baseDir: dir });
    // a cancelled file and a failed build tell nothing of how long they take
    expect([...d.files]).toEqual([['root/tests/a.test.lua', 10], ['root/tests/b.test.lua', 20]]);
    expect([...d.fixtures]).toEqual([['fixtures/base', 3000]]);
  });

  it('reads an event stream, naming files relative to the project root, a later file winning', () => {
    const project = path.join(dir, 'proj');
    const cwd = path.join(project, 'sub');
    const one = write('one.jsonl', lines({ event: 'run_started', timestamp: ts, files: 2 }, completed('t/a.test.lua', 100), completed('t/b.test.lua', 200)));
    const two = write('two.jsonl', lines(completed('t/b.test.lua', 250)));
    const d = readDurations([one, two], { cwd, baseDir: project });
    expect([...d.files]).toEqual([['sub/t/a.test.lua', 100], ['sub/t/b.test.lua', 250]]);
  });

  it('refuses a file that is neither, naming it and the line', () => {
    const bad = write('bad.jsonl', lines(completed('a.test.lua', 1)) + 'PASS a.test.lua\n');
    const m = refusal(() => readDurations([bad], { cwd: dir, baseDir: dir }));
    expect(m).toContain(`--durations ${bad}`);
    expect(m).toContain(`${bad}:2: not a JSON line`);
    expect(m).toContain('--save-durations');
  });

  it('refuses a bad value, an unknown format, an empty file and a missing one', () => {
    const ctx = { cwd: dir, baseDir: dir };
    expect(refusal(() => readDurations([write('neg.json', '{"provium_durations": 1, "files": {"a.test.lua": -3}}')], ctx))).toMatch(/neg\.json: files "a\.test\.lua": expected milliseconds .* got -3/);
    expect(refusal(() => readDurations([write('v9.json', '{"provium_durations": 9, "files": {}}')], ctx))).toMatch(/v9\.json: "provium_durations" is 9; this provium reads format 1/);
    expect(refusal(() => readDurations([write('empty.json', '\n')], ctx))).toMatch(/empty\.json: the file is empty/);
    expect(refusal(() => readDurations(['nowhere.json'], ctx))).toMatch(/--durations nowhere\.json: no such file; .*every shard must read the same one/);
  });
});
