/** Runs the built CLI (`npm test` builds first; alone: `npx tsc -b` before `npx vitest run test/cli`). */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import type { RunEvent } from '@provium/types';
import { afterAll } from 'vitest';

export const CLI = path.resolve(__dirname, '../../runner/bin/provium.js');

/** The temp projects of the test file that imports this module (vitest loads it once per file). */
const made: string[] = [];
// Registered first, so it runs after the file's own afterAll hooks (which may still use a project).
afterAll(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A temp project: files by relative path; removed when the test file ends. */
export function project(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'provium-cli-'));
  made.push(dir);
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), text);
  }
  return dir;
}

export async function provium(cwd: string, ...args: string[]) {
  return proviumWithEnv(cwd, {}, ...args);
}

export async function proviumWithEnv(cwd: string, env: Record<string, string>, ...args: string[]) {
  const r = await execa('node', [CLI, ...args], { cwd, reject: false, env: { NO_COLOR: '1', ...env } });
  return { code: r.exitCode ?? -1, stdout: r.stdout, stderr: r.stderr, lastLine: r.stdout.trimEnd().split('\n').at(-1) ?? '' };
}

export async function events(cwd: string, ...args: string[]): Promise<{ code: number; events: RunEvent[] }> {
  const r = await provium(cwd, 'test', '--json', ...args);
  return { code: r.code, events: r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as RunEvent) };
}

/**
 * A temp project with one root, `tests`, holding `files` (by path under it), run once with
 * `provium test --json tests` and a fixture cache of its own: the events and stderr.
 */
export async function runSuite(files: Record<string, string>): Promise<{ dir: string; events: RunEvent[]; stderr: string }> {
  const dir = project({ 'provium.toml': '[provium]\nroots = ["tests"]\n', ...Object.fromEntries(Object.entries(files).map(([rel, text]) => [`tests/${rel}`, text])) });
  const r = await execa('node', [CLI, 'test', '--json', 'tests'], { cwd: dir, reject: false, env: { PROVIUM_CACHE_DIR: path.join(dir, 'cache') } });
  return { dir, events: r.stdout.trim().split('\n').map((l) => JSON.parse(l) as RunEvent), stderr: r.stderr };
}

/** The passed or failed event of test `name`. */
export const testOutcome = (events: RunEvent[], name: string) => events.find((e) => (e.event === 'test_passed' || e.event === 'test_failed') && e.test === name);
