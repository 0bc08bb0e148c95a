/**
 * A suite split over three processes (`provium test --shard K/3`), as a CI
 * matrix runs it, and put back together with `provium report merge`: the
 * shards run every test once, and the merged report and JUnit file are the
 * unsharded run's. One file boots a real VM (the default guest).
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { XMLParser } from 'fast-xml-parser';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { RunEvent, RunStarted } from '@provium/types';
import { CLI, project, provium } from './helpers.js';

const pass = (name: string) => `test("${name}", function(t) t:assert_eq(1 + 1, 2) end)\n`;
const SUITE = {
  'provium.toml': '[provium]\nroots = ["tests"]\n',
  'tests/alpha.test.lua': pass('a1') + pass('a2'),
  'tests/beta.test.lua': pass('b1') + 'test("b2 fails", function(t) t:assert_eq("apple", "orange") end)\n',
  'tests/gamma.test.lua': pass('g1') + 'test("g2 later", { skip = "not yet" }, function(t) end)\n',
  'tests/net/delta.test.lua': pass('d1') + pass('d2') + pass('d3'),
  'tests/net/epsilon.test.lua': 'error("top-level code fails")\n',
  'tests/zeta.test.lua': pass('z1'),
  'tests/vm/echo.test.lua': 'local vm = provium:vm("echo", "default"):boot()\ntest("echo in the guest", function(t) t:assert_eq(vm:run("echo hi").stdout, "hi\\n") end)\n',
};
const FILES = Object.keys(SUITE).filter((f) => f.endsWith('.test.lua')).sort();

const eventsOf = (file: string) => readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as RunEvent);

/** Every <testcase> as `suite > case: outcome`, sorted; times left out. */
function cases(xmlFile: string): string[] {
  const xml = new XMLParser({ ignoreAttributes: false, isArray: (name) => name === 'testsuite' || name === 'testcase' }).parse(readFileSync(xmlFile, 'utf8'));
  const out: string[] = [];
  for (const s of xml.testsuites.testsuite as Record<string, unknown>[]) {
    for (const c of s.testcase as Record<string, unknown>[]) {
      const outcome = 'failure' in c ? 'failure' : 'error' in c ? 'error' : 'skipped' in c ? 'skipped' : 'passed';
      out.push(`${s['@_name']} > ${c['@_name']}: ${outcome}`);
    }
  }
  return out.sort();
}

/** The files `provium list` prints (the lines that are not indented, before "fixtures:"). */
const listed = (stdout: string) => stdout.split('\n').filter((l) => l.endsWith('.test.lua') && !l.startsWith(' '));

describe('provium test --shard', () => {
  it('three shards as three processes run each test once, and their merge equals the unsharded run', async () => {
    const dir = project(SUITE);
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const full = await provium(dir, 'test', '--reporter', 'junit', '--output', 'full.xml', '--save-durations', 'durations.json');
    expect(full.code, full.stdout + full.stderr).toBe(1);
    expect(full.lastLine).toBe('9 passed, 2 failed, 1 skipped');
    const recorded = JSON.parse(readFileSync(path.join(dir, 'durations.json'), 'utf8')) as { files: Record<string, number> };
    expect(Object.keys(recorded.files).sort()).toEqual(FILES);

    const shards = await Promise.all([1, 2, 3].map((k) => provium(dir, 'test', '--shard', `${k}/3`, '--durations', 'durations.json', '--save-events', `shard-${k}.jsonl`)));
    const streams = [1, 2, 3].map((k) => eventsOf(path.join(dir, `shard-${k}.jsonl`)));
    for (const [i, s] of shards.entries()) {
      // the human report still prints, and ends as every run's does
      expect(s.lastLine).toMatch(/^\d+ passed, \d+ failed, \d+ skipped$/);
      const start = streams[i]![0] as RunStarted;
      expect(start).toMatchObject({ event: 'run_started', shard: { index: i + 1, count: 3 } });
      expect(streams[i]!.at(-1)!.event).toBe('run_completed');
    }
    expect(new Set(streams.map((s) => (s[0] as RunStarted).shard!.partition)).size).toBe(1);
    // every file in exactly one shard, every test once
    const filesRun = streams.map((s) => s.flatMap((e) => (e.event === 'file_started' ? [e.file] : [])));
    expect(filesRun.flat().sort()).toEqual(FILES);
    const testsRun = streams.flat().flatMap((e) => (e.event === 'test_passed' || e.event === 'test_failed' || e.event === 'test_skipped' ? [`${e.file} > ${e.test}`] : []));
    expect(testsRun.length).toBe(new Set(testsRun).size);
    expect(testsRun).toHaveLength(11);
    // by the recorded times the VM file (seconds) is a shard of its own; the rest share the other two
    expect(filesRun).toContainEqual(['tests/vm/echo.test.lua']);
    // provium list --shard shows each shard's files, from the same times
    for (const k of [1, 2, 3]) {
      const l = await provium(dir, 'list', '--shard', `${k}/3`, '--durations', 'durations.json');
      expect(l.code).toBe(0);
      expect(listed(l.stdout)).toEqual([...filesRun[k - 1]!].sort());
    }

    const merged = await provium(dir, 'report', 'merge', 'shard-1.jsonl', 'shard-2.jsonl', 'shard-3.jsonl', '--reporter', 'junit', '--output', 'merged.xml');
    expect(merged.code, merged.stdout + merged.stderr).toBe(1);
    expect(merged.lastLine).toBe(full.lastLine);
    expect(merged.stdout).toContain('Files: 5 passed, 2 failed');
    expect(merged.stdout).toMatch(/^FAIL tests\/beta\.test\.lua/m);
    expect(merged.stdout).toContain('assert_eq failed: apple ~= orange');
    expect(merged.stdout).not.toContain('note:');
    expect(cases(path.join(dir, 'merged.xml'))).toEqual(cases(path.join(dir, 'full.xml')));
  }, 240_000);

  it('without times splits round-robin by path from the project root; a bad K/N is a usage error', async () => {
    const dir = project({ ...SUITE, 'tests/vm/echo.test.lua': pass('no vm here') });
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const shards = await Promise.all([1, 2, 3].map(async (k) => listed((await provium(dir, 'list', '--shard', `${k}/3`)).stdout)));
    expect(shards).toEqual([
      ['tests/alpha.test.lua', 'tests/net/delta.test.lua', 'tests/zeta.test.lua'],
      ['tests/beta.test.lua', 'tests/net/epsilon.test.lua'],
      ['tests/gamma.test.lua', 'tests/vm/echo.test.lua'],
    ]);
    // the same from a subdirectory: paths are the project root's, not the working directory's
    const fromSub = await provium(path.join(dir, 'tests', 'net'), 'list', '--shard', '1/3');
    expect(listed(fromSub.stdout)).toEqual(['../alpha.test.lua', 'delta.test.lua', '../zeta.test.lua']);
    for (const bad of ['0/3', '4/3', 'three']) {
      for (const cmd of ['test', 'list']) {
        const r = await provium(dir, cmd, '--shard', bad);
        expect(r.code).toBe(2);
        expect(r.stderr).toContain(`--shard: expected K/N, the K-th of N shards with 1 <= K <= N (e.g. 2/3), got "${bad}"`);
      }
    }
    const noShard = await provium(dir, 'test', '--durations', 'x.json');
    expect(noShard.code).toBe(2);
    expect(noShard.stderr).toContain('--durations balances shards by recorded times: it goes with --shard K/N');
    writeFileSync(path.join(dir, 'broken.json'), '{"provium_durations": 1, "files": ');
    const broken = await provium(dir, 'test', '--shard', '1/2', '--durations', 'broken.json');
    expect(broken.code).toBe(2);
    expect(broken.stderr).toContain('--durations broken.json: neither a durations file');
    // a shard with no files is a run of nothing, not an error: a CI matrix may outnumber the files
    const empty = await provium(dir, 'test', 'tests/zeta.test.lua', '--shard', '2/2', '--save-events', 'empty.jsonl');
    expect(empty.code).toBe(0);
    expect(empty.stderr).toContain('shard 2/2 has no files');
    expect(eventsOf(path.join(dir, 'empty.jsonl')).map((e) => e.event)).toEqual(['run_started', 'run_completed']);
  });

  it('merges a shard that was killed as a failure, and refuses what is not an event file', async () => {
    const dir = project({
      'tests/a.test.lua': pass('a1'),
      'tests/b.test.lua': pass('b1') + 'test("b2 hangs", function(t) wait_until(function() return false end, { timeout = "5m", desc = "never" }) end)\n',
      'tests/c.test.lua': pass('c1'),
    });
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    // shard 1/2 (a, c) finishes; shard 2/2 (b) is killed while b2 runs
    const one = await provium(dir, 'test', '--shard', '1/2', '--save-events', 's1.jsonl');
    expect(one.code).toBe(0);
    const run = execa('node', [CLI, 'test', '--shard', '2/2', '--save-events', 's2.jsonl'], { cwd: dir, reject: false });
    const s2 = path.join(dir, 's2.jsonl');
    await expect.poll(() => existsSync(s2) && readFileSync(s2, 'utf8').includes('"test":"b2 hangs"'), { timeout: 30_000 }).toBe(true);
    run.kill('SIGKILL');
    await run;

    const merged = await provium(dir, 'report', 'merge', 's1.jsonl', 's2.jsonl', '--reporter', 'junit', '--output', 'merged.xml');
    expect(merged.code).toBe(1);
    expect(merged.stdout).toMatch(/^note: shard 2\/2 \(s2\.jsonl\) did not finish: its events end without run_completed.*1 file still running \(reported as errors\): counted as a failure$/m);
    expect(merged.stdout).toMatch(/^ERROR tests\/b\.test\.lua/m);
    expect(merged.lastLine).toBe('3 passed, 1 failed, 0 skipped');
    expect(cases(path.join(dir, 'merged.xml'))).toEqual(['tests/a.test.lua > a1: passed', 'tests/b.test.lua > (file): error', 'tests/b.test.lua > b1: passed', 'tests/c.test.lua > c1: passed']);
    // only the one shard: the other is missing, said so, and the merge fails
    const alone = await provium(dir, 'report', 'merge', 's1.jsonl');
    expect(alone.code).toBe(1);
    expect(alone.stdout).toContain('note: shard 2/2: no event file given');

    writeFileSync(path.join(dir, 'report.txt'), one.stdout);
    const notEvents = await provium(dir, 'report', 'merge', 's1.jsonl', 'report.txt');
    expect(notEvents.code).toBe(2);
    expect(notEvents.stderr).toMatch(/^provium: report\.txt:1: not a JSON line .*`provium test --json` prints or `--save-events FILE` writes/m);
    const missing = await provium(dir, 'report', 'merge', 'gone.jsonl');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('gone.jsonl: no such file');
    expect((await provium(dir, 'report', 'merge')).code).toBe(2);
  }, 120_000);
});
