/**
 * The shared pool between files, end to end on the real default guest, with
 * a pool of 2 CPUs (2 cores here × --cpu-overcommit 1; on a bigger machine
 * the VMs ask for all of it): a hold-and-wait cycle between two files fails
 * the boot that closes it at once, and time a file spends queued at a boot is
 * not charged to its timeouts.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, expect, it } from 'vitest';
import type { FileCompleted, RunEvent, TestFailed } from '@provium/types';

const CLI = path.resolve(__dirname, '../../runner/bin/provium.js');
const made: string[] = [];
afterAll(() => made.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** The pool's CPUs: cores × overcommit 1. A VM of half of them, and one of all of them. */
const POOL_CPUS = Math.max(1, Math.floor(os.availableParallelism()));
const HALF = Math.max(1, Math.floor(POOL_CPUS / 2));

function project(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'provium-pool-'));
  made.push(dir);
  for (const [rel, text] of Object.entries({ 'provium.toml': '[provium]\nroots = ["tests"]\n', ...files })) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), text);
  }
  return dir;
}

async function run(dir: string): Promise<RunEvent[]> {
  const r = await execa('node', [CLI, 'test', '-j2', '--json', '--cpu-overcommit', '1', 'tests'], { cwd: dir, reject: false, env: { PROVIUM_CACHE_DIR: path.join(dir, 'cache') } });
  expect(r.stderr).not.toMatch(/internal/i);
  return r.stdout.trim().split('\n').map((l) => JSON.parse(l) as RunEvent);
}

/** Lua: writes marker `name` in `dir`, then waits (at most 2 minutes: a file that failed early must not stall the other) until marker `other` exists. */
const meet = (dir: string, name: string, other: string) =>
  `assert(os.execute("touch '${dir}/${name}' && timeout 120 sh -c 'until [ -e ${dir}/${other} ]; do sleep 0.05; done'"))`;

it('a boot that closes a hold-and-wait cycle between two files fails at once, naming provium:claim; the other file goes on', async () => {
  const marks = mkdtempSync(path.join(tmpdir(), 'provium-pool-marks-'));
  made.push(marks);
  const file = (me: string, other: string) => `
provium.timeout = "10m"
test("two VMs one after the other", function(t)
  local one = provium:vm("one", "default", { cpus = ${HALF} }):boot()
  ${meet(marks, me, other)}
  local two = provium:vm("two", "default", { cpus = ${HALF} }):boot()
  two:run("true"):assert_ok()
end)
`;
  const dir = project({ 'tests/a.test.lua': file('a', 'b'), 'tests/b.test.lua': file('b', 'a') });
  const events = await run(dir);
  const failed = events.filter((e): e is TestFailed => e.event === 'test_failed');
  expect(failed).toHaveLength(1);
  expect(failed[0].error.message).toContain('the pool is deadlocked');
  expect(failed[0].error.message).toContain('provium:claim');
  expect(failed[0].error.message).toMatch(/tests\/[ab]\.test\.lua holds .*; tests\/[ab]\.test\.lua holds/);
  const files = events.filter((e): e is FileCompleted => e.event === 'file_completed');
  expect(files.map((f) => f.status).sort()).toEqual(['failed', 'passed']);
  expect(events.some((e) => e.event === 'test_passed')).toBe(true);
}, 300_000);

it('time queued at a boot is not charged to the test timeout', async () => {
  const marks = mkdtempSync(path.join(tmpdir(), 'provium-pool-marks-'));
  made.push(marks);
  // holder keeps the whole pool for 40 s after waiter asked for it; waiter's test has 25 s (its
  // top-level code, not counted, waits until holder holds the pool).
  const dir = project({
    'tests/holder.test.lua': `
test("holds the pool", function(t)
  local vm = provium:vm("big", "default", { cpus = ${POOL_CPUS} }):boot()
  ${meet(marks, 'holding', 'asked')}
  assert(os.execute("sleep 40"))
end)
`,
    'tests/waiter.test.lua': `
assert(os.execute("timeout 120 sh -c 'until [ -e ${marks}/holding ]; do sleep 0.05; done'"))
test("boots once the pool is free", { timeout = "25s" }, function(t)
  ${meet(marks, 'asked', 'holding')}
  local vm = provium:vm("late", "default", { cpus = ${POOL_CPUS} }):boot()
  vm:run("true"):assert_ok()
end)
`,
  });
  const events = await run(dir);
  expect(events.filter((e) => e.event === 'file_blocked').map((e) => (e as { file: string }).file)).toContain('tests/waiter.test.lua');
  const files = events.filter((e): e is FileCompleted => e.event === 'file_completed');
  expect(files.map((f) => [f.file, f.status]).sort()).toEqual([
    ['tests/holder.test.lua', 'passed'],
    ['tests/waiter.test.lua', 'passed'],
  ]);
  // It waited at least the holder's 40 s: more than its whole timeout, which it still kept.
  const waited = events.find((e) => e.event === 'test_passed' && e.test === 'boots once the pool is free') as { duration_ms: number };
  expect(waited.duration_ms).toBeGreaterThan(40_000);
}, 300_000);
