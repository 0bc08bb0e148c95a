/**
 * Runs with nothing to run (issue 16): no *.test.lua files is exit 0 with a
 * `no_files` event, --rerun-failed without state says so, a --filter leaves
 * unselected files out of the report; and the top-level help shows the test options.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { events, project as makeProject, provium, proviumWithEnv } from './helpers.js';

/** A temp project removed when the test ends. */
function project(files: Record<string, string>): string {
  const dir = makeProject(files);
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe('no *.test.lua files', () => {
  it.each([
    ['an empty directory', {}],
    ['only helpers', { 'tests/helper.lua': '-- not a test\n', 'tests/config.lua': 'return {}\n' }],
    ['only a fixture', { 'tests/x.fixture.lua': 'return provium:vm("a", "default"):snapshot()\n' }],
  ])('%s: says where it looked and exits 0', async (_name, files: Record<string, string>) => {
    const dir = project({ 'provium.toml': '[provium]\nroots = ["tests"]\n', 'tests/.keep': '', ...files });
    const r = await provium(dir, 'tests');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('no *.test.lua files found (looked under tests)');
  });

  it('--json: the one event is no_files, with the paths; --save-events and --save-durations keep to it', async () => {
    const dir = project({ 'tests/helper.lua': '-- not a test\n', 'durations.json': '{"kept": true}\n' });
    const r = await events(dir, '--save-events', 'events.jsonl', '--save-durations', 'durations.json');
    expect(r.code).toBe(0);
    expect(r.events).toEqual([{ event: 'no_files', timestamp: expect.any(String), paths: ['tests'] }]);
    expect(JSON.parse(readFileSync(path.join(dir, 'events.jsonl'), 'utf8'))).toMatchObject({ event: 'no_files' });
    expect(readFileSync(path.join(dir, 'durations.json'), 'utf8')).toBe('{"kept": true}\n'); // nothing measured, nothing overwritten
    const merged = await provium(dir, 'report', 'merge', 'events.jsonl');
    expect(merged.code).toBe(0);
  });

  // With test files, test/cli/file-choice.test.ts checks the same message.
  it('--rerun-failed with no state says there is nothing to re-run, also where there are no test files', async () => {
    const stateDir = mkdtempSync(path.join(tmpdir(), 'provium-rerun-'));
    onTestFinished(() => rmSync(stateDir, { recursive: true, force: true }));
    const env = { PROVIUM_RERUN_STATE: path.join(stateDir, 'none.json') };
    const r = await proviumWithEnv(project({ 'tests/.keep': '' }), env, '--rerun-failed');
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`--rerun-failed: no failed files are recorded in ${env.PROVIUM_RERUN_STATE} (a run with failures records them): nothing to re-run`);
    expect(r.stdout).toBe('');
  });
});

describe('--filter', () => {
  it('leaves files with no selected test out of the human report and counts them apart', async () => {
    const dir = project({ 'tests/alpha.test.lua': 'test("a", function(t) end)\n', 'tests/beta.test.lua': 'test("b", function(t) end)\n' });
    const r = await provium(dir, '--filter', 'alpha');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^PASS tests\/alpha\.test\.lua/m);
    expect(r.stdout).not.toContain('beta');
    expect(r.stdout).toMatch(/^Files: 1 passed, 0 failed, 1 with no test to run \(/m);
    expect(r.lastLine).toBe('1 passed, 0 failed, 0 skipped');
    const verbose = await provium(dir, '--filter', 'alpha', '-v');
    expect(verbose.stdout).toMatch(/^EMPTY tests\/beta\.test\.lua/m);
    // the events still carry every file (D27)
    const ev = await events(dir, '--filter', 'alpha');
    expect(ev.events.filter((e) => e.event === 'file_completed').map((e) => (e as { status: string }).status).sort()).toEqual(['empty', 'passed']);
  });
});

it('provium --help shows the options of running tests too', async () => {
  const r = await provium(tmpdir(), '--help');
  expect(r.code).toBe(0);
  expect(r.stdout).toContain('Commands:');
  for (const flag of ['--json', '--watch', '--coverage', '--filter', '--rerun-failed', '-j, --jobs']) expect(r.stdout).toContain(flag);
});
