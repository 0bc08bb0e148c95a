import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { describe, expect, it, onTestFinished } from 'vitest';
import { execa } from 'execa';
import type { FileCompleted, RunCompleted, RunEvent, TestFailed, TestPassed } from '@provium/types';
import { CLI, events, project, provium, proviumWithEnv } from './helpers.js';

const PASSING = `test("one", function(t) t:assert_eq(1, 1) end)\ntest("two", function(t) print("to the log") end)\n`;
const FAILING = `test("good", function(t) end)\ntest("bad", { owner = "me" }, function(t)\n  t:assert_eq("apple", "orange")\nend)\n`;

/**
 * A test that writes when it starts and ends (ns since the epoch, `date +%s%N`) into `stamps` and,
 * in between, waits until file `other` has started (its test has written its start).
 */
const meets = (stamps: string, self: string, other: string) => `test("meets ${other}", { timeout = "20s" }, function(t)
  t:assert(os.execute("date +%s%N > '${stamps}/${self}.tmp' && mv '${stamps}/${self}.tmp' '${stamps}/${self}.start'"))
  t:assert(os.execute("until [ -e '${stamps}/${other}.start' ]; do sleep 0.01; done"))
  t:assert(os.execute("date +%s%N > '${stamps}/${self}.end'"))
end)
`;
const stamp = (stamps: string, name: string) => BigInt(readFileSync(path.join(stamps, name), 'utf8').trim());

describe('provium test', () => {
  it('runs files in parallel and ends with the counts line', async () => {
    // -j2: lane 0 takes a (and b behind it), lane 1 takes sub/c; a and c each wait for the other to start
    const stamps = mkdtempSync(path.join(tmpdir(), 'provium-stamps-'));
    onTestFinished(() => rmSync(stamps, { recursive: true, force: true }));
    const dir = project({ 'tests/a.test.lua': PASSING + meets(stamps, 'a', 'c'), 'tests/b.test.lua': FAILING, 'tests/sub/c.test.lua': PASSING + meets(stamps, 'c', 'a') });
    const r = await provium(dir, 'test', '-j2');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^PASS tests\/a\.test\.lua/m);
    expect(r.stdout).toMatch(/^FAIL tests\/b\.test\.lua/m);
    expect(r.stdout).toMatch(/^PASS tests\/sub\/c\.test\.lua/m);
    expect(r.stdout).toContain('assert_eq failed: apple ~= orange');
    expect(r.stdout).toContain('at tests/b.test.lua:3');
    expect(r.lastLine).toBe('7 passed, 1 failed, 0 skipped');
    expect(r.stdout).not.toContain('to the log'); // print goes to the test's log
    // a's test and c's test ran at the same time: each began before the other ended
    const [a, c] = ['a', 'c'].map((f) => ({ start: stamp(stamps, `${f}.start`), end: stamp(stamps, `${f}.end`) }));
    expect(a.start < c.end && c.start < a.end, JSON.stringify({ a, c }, (_, v) => String(v))).toBe(true);
  });

  it('a thread with nothing left to do takes over a file waiting behind a long one', async () => {
    // Lane 0 gets a and, waiting behind it, b; lane 1 gets c, then has nothing: it takes b.
    const quick = 'test("quick", function(t) t:assert(true) end)\n';
    const dir = project({ 'tests/a.test.lua': 'test("long", function(t) os.execute("sleep 3") end)\n', 'tests/b.test.lua': quick, 'tests/c.test.lua': quick });
    const { code, events: evs } = await events(dir, '-j2');
    expect(code).toBe(0);
    const started = (f: string) => evs.find((e) => e.event === 'file_started' && e.file === f);
    const completedAt = (f: string) => evs.findIndex((e) => e.event === 'file_completed' && e.file === f);
    expect(started('tests/a.test.lua')).toMatchObject({ worker: 0 });
    expect(started('tests/b.test.lua')).toMatchObject({ worker: 1 });
    expect(completedAt('tests/b.test.lua')).toBeLessThan(completedAt('tests/a.test.lua'));
    expect(evs.at(-1)).toMatchObject({ event: 'run_completed', files: 3, passed: 3, not_run: 0 });
  });

  it('reports a syntax error as file:line for that file only', async () => {
    const dir = project({ 'tests/ok.test.lua': PASSING, 'tests/broken.test.lua': 'test("x", function(t)\n  local = 1\nend)\n' });
    const r = await provium(dir, 'test');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^ERROR tests\/broken\.test\.lua/m);
    expect(r.stdout).toContain('at tests/broken.test.lua:2');
    expect(r.stdout).toMatch(/^PASS tests\/ok\.test\.lua/m);
    expect(r.lastLine).toBe('2 passed, 1 failed, 0 skipped');
  });

  it('stops runaway files at the timeout while the others finish', async () => {
    const dir = project({
      'tests/spin.test.lua': 'test("spin", function(t) while true do end end)\n',
      'tests/pspin.test.lua': 'while true do pcall(function() while true do end end) end\n',
      // One library call that backtracks for ages: no Lua instruction runs, so only the main thread can stop it.
      'tests/native.test.lua': 'test("backtrack", function(t)\n  string.find(("a"):rep(40), ("a?"):rep(40) .. ("a"):rep(40))\nend)\n',
      'tests/fine.test.lua': PASSING,
    });
    const { code, events: ev } = await events(dir, '--timeout', '1s', '-j4');
    expect(code).toBe(1);
    const done = (f: string) => ev.find((e): e is FileCompleted => e.event === 'file_completed' && e.file === f)!;
    expect(done('tests/spin.test.lua').status).toBe('timed_out');
    expect(done('tests/pspin.test.lua').status).toBe('timed_out');
    expect(done('tests/native.test.lua').status).toBe('timed_out');
    expect(done('tests/native.test.lua').error!.message).toMatch(/^timed out after 1\.0s.* and did not stop within 5s: its worker thread was terminated$/);
    expect(done('tests/fine.test.lua').status).toBe('passed');
    expect((ev.at(-1) as RunCompleted).failed_files).toBe(3);
  });

  it('a worker that dies takes down no other file', async () => {
    const dir = project({
      // Fault injection: a worker heap cap small enough that this file's worker runs out of memory.
      'tests/hog.test.lua': 'test("hog", function(t)\n  local keep = {}\n  for i = 1, 1e9 do keep[i] = string.rep("x", 1000) .. i end\nend)\n',
      'tests/fine.test.lua': PASSING,
    });
    const r = await proviumWithEnv(dir, { PROVIUM_WORKER_MAX_HEAP_MB: '64' }, 'test', '-j2');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^ERROR tests\/hog\.test\.lua/m);
    expect(r.stdout).toContain('the worker thread running this file died');
    expect(r.stdout).toMatch(/^PASS tests\/fine\.test\.lua/m);
    expect(r.lastLine).toBe('2 passed, 1 failed, 0 skipped');
  });

  it('applies per-test timeout meta and --timeout-scale', async () => {
    const file = 'test("slow", { timeout = "100ms" }, function(t) wait_until(function() return false end, { timeout = "5s" }) end)\ntest("next", function(t) end)\n';
    const dir = project({ 'tests/t.test.lua': file });
    const plain = await events(dir);
    const failed = plain.events.find((e): e is TestFailed => e.event === 'test_failed')!;
    expect(failed.test).toBe('slow');
    expect(failed.error.message).toMatch(/timed out after 0\.1s|100ms/);
    expect(plain.events.some((e) => e.event === 'test_passed' && e.test === 'next')).toBe(true);
    const scaled = await events(dir, '--timeout-scale', '3');
    expect(scaled.events.find((e): e is TestFailed => e.event === 'test_failed')!.error.message).toMatch(/0\.3s|300ms/);
  });

  it('selects with --filter, --tag, --no-tag and --include-slow', async () => {
    const file = [
      'test("alpha", { tags = { "net" } }, function(t) end)',
      'test("beta", { tags = { "disk" } }, function(t) end)',
      'test("gamma", { slow = true }, function(t) end)',
    ].join('\n');
    const dir = project({ 'tests/sel.test.lua': file, 'tests/other.test.lua': 'test("delta", function(t) end)\n' });
    const ran = async (...args: string[]) =>
      (await events(dir, ...args)).events.filter((e) => e.event === 'test_passed').map((e) => (e as TestPassed).test).sort();
    expect(await ran()).toEqual(['alpha', 'beta', 'delta']);
    expect(await ran('--include-slow')).toEqual(['alpha', 'beta', 'delta', 'gamma']);
    expect(await ran('--filter', 'bet')).toEqual(['beta']);
    expect(await ran('--filter', 'other.test')).toEqual(['delta']);
    expect(await ran('--tag', 'net')).toEqual(['alpha']);
    expect(await ran('--no-tag', 'net')).toEqual(['beta', 'delta']);
  });

  it('--fail-fast stops after the first failing file and counts what did not run', async () => {
    const files: Record<string, string> = { 'tests/a1.test.lua': FAILING };
    for (let i = 2; i <= 6; i++) files[`tests/a${i}.test.lua`] = PASSING;
    const { code, events: ev } = await events(project(files), '--fail-fast', '-j1');
    expect(code).toBe(1);
    const summary = ev.at(-1) as RunCompleted;
    expect(summary.event).toBe('run_completed');
    expect(summary.not_run).toBe(5);
  });

  it('--fail-fast cancels the running files, and a cancelled file is not a failure', async () => {
    const dir = project({
      'tests/a1.test.lua': FAILING,
      'tests/a2.test.lua': 'test("spin", function(t) while true do end end)\n',
      'tests/a3.test.lua': PASSING,
      'tests/a4.test.lua': PASSING,
    });
    const { code, events: ev } = await events(dir, '--fail-fast', '-j2');
    expect(code).toBe(1);
    const spin = ev.find((e): e is FileCompleted => e.event === 'file_completed' && e.file === 'tests/a2.test.lua')!;
    expect(spin.status).toBe('cancelled');
    expect(spin.error?.message).toMatch(/^stopped by --fail-fast after another file failed/);
    expect(ev.at(-1)).toMatchObject({ event: 'run_completed', files: 2, failed_files: 1, failed: 1, passed: 1, not_run: 2, exit_code: 1 });
    const human = await provium(dir, 'test', '--fail-fast', '-j2', '--reporter', 'junit', '--output', 'junit.xml');
    expect(human.stdout).toMatch(/^CANCELLED tests\/a2\.test\.lua/m);
    expect(human.stdout).toContain('Files: 0 passed, 1 failed, 1 cancelled, 2 not run');
    expect(human.lastLine).toBe('1 passed, 1 failed, 0 skipped');
    const xml = new XMLParser({ ignoreAttributes: false }).parse(readFileSync(path.join(dir, 'junit.xml'), 'utf8'));
    const a2 = (xml.testsuites.testsuite as Record<string, unknown>[]).find((s) => s['@_name'] === 'tests/a2.test.lua')!;
    expect(a2).toMatchObject({ '@_errors': '0', '@_skipped': '1', testcase: { '@_name': '(file)', skipped: { '@_message': expect.stringMatching(/^cancelled: stopped by --fail-fast/) } } });
  });

  it('Ctrl-C cancels the running file, prints the summary and exits 130', async () => {
    // The test waits (rather than spins) so that its test_started event reaches the main thread.
    const dir = project({ 'tests/a-wait.test.lua': 'test("waits", function(t) wait_until(function() return false end, { timeout = "1h" }) end)\n', 'tests/later.test.lua': PASSING });
    const run = execa('node', [CLI, 'test', '--json', '-j1'], { cwd: dir, reject: false });
    await new Promise<void>((resolve, reject) => {
      let out = '';
      run.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('"test_started"')) resolve();
      });
      void run.then(() => reject(new Error(`provium ended before the test started:\n${out}`)));
    });
    run.kill('SIGINT');
    const done = await run;
    expect(done.exitCode).toBe(130);
    const ev = done.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as RunEvent);
    expect(ev.find((e) => e.event === 'file_completed')).toMatchObject({ file: 'tests/a-wait.test.lua', status: 'cancelled', error: { message: 'cancelled (interrupted) (during test "waits")' } });
    expect(ev.at(-1)).toMatchObject({ event: 'run_completed', not_run: 1, exit_code: 130 });
  });

  it('-v lists every test, -q only failures', async () => {
    const dir = project({ 'tests/a.test.lua': PASSING, 'tests/b.test.lua': FAILING });
    const v = await provium(dir, 'test', '-v');
    expect(v.stdout).toContain('✓ one');
    expect(v.stdout).toContain('✓ good');
    const q = await provium(dir, 'test', '-q');
    expect(q.stdout).not.toContain('tests/a.test.lua');
    expect(q.stdout).toContain('FAIL tests/b.test.lua');
    expect(q.lastLine).toBe('3 passed, 1 failed, 0 skipped');
  });

  it('--json prints every event with a timestamp and the test meta', async () => {
    const { events: ev } = await events(project({ 'tests/b.test.lua': FAILING }));
    expect(ev.map((e) => e.event)).toEqual(['run_started', 'file_started', 'test_started', 'test_passed', 'test_started', 'test_failed', 'file_completed', 'run_completed']);
    for (const e of ev) expect(Number.isNaN(Date.parse(e.timestamp))).toBe(false);
    const failed = ev.find((e): e is TestFailed => e.event === 'test_failed')!;
    expect(failed.meta).toEqual({ owner: 'me' });
    expect(failed.error.location).toEqual({ file: 'tests/b.test.lua', line: 3 });
    const passed = (await events(project({ 'tests/a.test.lua': PASSING }))).events.filter((e): e is TestPassed => e.event === 'test_passed');
    expect(passed[1].log).toEqual(['to the log']);
  });

  it('writes JUnit XML that parses back', async () => {
    const dir = project({ 'tests/a.test.lua': PASSING, 'tests/b.test.lua': FAILING + 'test("skipped", { skip = "later" }, function(t) end)\n' });
    const r = await provium(dir, 'test', '--reporter', 'junit', '--output', 'junit.xml');
    expect(r.code).toBe(1);
    const xml = new XMLParser({ ignoreAttributes: false }).parse(readFileSync(path.join(dir, 'junit.xml'), 'utf8'));
    const suites = xml.testsuites.testsuite as { '@_name': string; testcase: unknown[] }[];
    expect(suites.map((s) => s['@_name']).sort()).toEqual(['tests/a.test.lua', 'tests/b.test.lua']);
    expect(xml.testsuites['@_tests']).toBe('5');
    expect(xml.testsuites['@_failures']).toBe('1');
    const b = suites.find((s) => s['@_name'] === 'tests/b.test.lua')!.testcase as Record<string, { '@_message': string }>[];
    expect(b.find((c) => (c as unknown as { '@_name': string })['@_name'] === 'bad')!.failure['@_message']).toContain('apple ~= orange');
    expect(b.find((c) => (c as unknown as { '@_name': string })['@_name'] === 'skipped')!.skipped['@_message']).toBe('later');
  });

  it('requires helpers from the roots of provium.toml', async () => {
    const dir = project({
      'provium.toml': '[provium]\nroots = ["suite"]\n',
      'suite/lib/util.lua': 'return { twice = function(x) return 2 * x end }\n',
      'suite/u.test.lua': 'local util = require("lib.util")\ntest("uses", function(t) t:assert_eq(util.twice(21), 42) end)\n',
    });
    const r = await provium(dir, 'test');
    expect(r.code).toBe(0);
    expect(r.lastLine).toBe('1 passed, 0 failed, 0 skipped');
  });

  it('runs from a directory without provium.toml', async () => {
    const r = await provium(project({ 'x.test.lua': PASSING }), 'test');
    expect(r.lastLine).toBe('2 passed, 0 failed, 0 skipped');
  });
});

describe('usage errors exit 2 and say what is wrong', () => {
  const dir = project({ 'tests/a.test.lua': PASSING });
  it.each([
    [['test', '--bogus'], /unknown option '--bogus'/],
    [['test', '-j', '0'], /--jobs: expected a whole number of at least 1, got "0"/],
    [['test', '--timeout', '5fortnights'], /invalid duration "5fortnights"/],
    [['test', 'nowhere'], /nowhere: no such file or directory/],
    [['test', '--reporter', 'junit'], /--reporter junit needs --output FILE/],
    [['test', '--output', 'x.xml'], /--output FILE is where --reporter junit writes its XML/],
    [['test', '-v', '-q'], /option '-q, --quiet' cannot be used with option '-v, --verbose'/],
    [['test', '--timeout-scale', '0'], /--timeout-scale: expected a number above 0 and at most 100, got "0"/],
    [['list', 'tests/missing.test.lua'], /tests\/missing\.test\.lua: no such file or directory/],
  ])('%j', async (args, message) => {
    const r = await provium(dir, ...args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it('names the unknown key and the file of a bad provium.toml', async () => {
    const bad = project({ 'provium.toml': '[provium]\nroots = ["tests"]\nretries = 3\n', 'tests/a.test.lua': PASSING });
    const r = await provium(bad, 'test');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/provium\.toml: unknown key "retries" in \[provium\]; known keys: roots, cache_dir, cache_max_size, timeout/);
    const invalid = project({ 'provium.toml': '[provium]\nroots = [\n', 'tests/a.test.lua': PASSING });
    const r2 = await provium(invalid, 'test');
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/provium\.toml:\d+: not valid TOML/);
  });
});

describe('other commands', () => {
  it('list shows tests found without running them, and fixtures', async () => {
    const dir = project({
      'tests/a.test.lua': 'error("never runs")\ntest("first", function(t) end)\ntest("slow", { slow = true, tags = { "n" } }, function(t) end)\n',
      'tests/fixtures/base.fixture.lua': 'return nil\n',
    });
    const r = await provium(dir, 'list', '--include-slow');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('tests/a.test.lua\n  first\n  slow [slow] [n]\nfixtures:\n  fixtures/base');
  });

  it('--help and --version', async () => {
    const dir = project({});
    const help = await provium(dir, '--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/test \[options\] \[paths\.\.\.\]/);
    const testHelp = await provium(dir, 'test', '--help');
    expect(testHelp.stdout).toContain('--no-tag <tag>');
    const version = await provium(dir, '--version');
    expect(version.stdout).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('types --luals writes a LuaCATS file', async () => {
    const dir = project({});
    const r = await provium(dir, 'types', '--luals', '--output', 'provium.lua');
    expect(r.code).toBe(0);
    expect(readFileSync(path.join(dir, 'provium.lua'), 'utf8')).toMatch(/^---@meta provium/);
  });
});
