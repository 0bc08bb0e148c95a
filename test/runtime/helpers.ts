/** Running real Lua test files (written to a temp dir) through runLuaFile, collecting what the worker posts. */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FileOutcome, FileTask, TestEvent, TestSelection, WorkerMessage } from '@provium/types';
import { runLuaFile, type RunOptions } from '../../runner/src/worker/run-file.js';

export interface LuaRun {
  outcome: FileOutcome;
  messages: WorkerMessage[];
  events: TestEvent[];
  /** The final event of each test by name. */
  results: Map<string, TestEvent>;
  dir: string;
}

const dirs: string[] = [];

/** Removes every temp dir made by runLua (call from afterAll). */
export function cleanupRuns(): void {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

export async function runLua(
  files: string | Record<string, string>,
  opts: { selection?: Partial<TestSelection>; fileTimeoutMs?: number; timeoutScale?: number; run?: RunOptions } = {},
): Promise<LuaRun> {
  const dir = mkdtempSync(path.join(tmpdir(), 'provium-rt-'));
  dirs.push(dir);
  const all = typeof files === 'string' ? { 'main.test.lua': files } : files;
  for (const [name, content] of Object.entries(all)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), content);
  }
  const main = Object.keys(all).find((n) => n.endsWith('.test.lua')) ?? Object.keys(all)[0];
  const task: FileTask = {
    file: path.join(dir, main),
    displayPath: `tests/${main}`,
    roots: [dir],
    selection: { tags: [], noTags: [], includeSlow: false, ...opts.selection },
    fileTimeoutMs: opts.fileTimeoutMs ?? 60_000,
    timeoutScale: opts.timeoutScale ?? 1,
    workerIndex: 0,
  };
  const messages: WorkerMessage[] = [];
  const outcome = await runLuaFile(task, (m) => messages.push(m), opts.run);
  const events = messages.flatMap((m) => (m.kind === 'events' ? m.events : []));
  const results = new Map<string, TestEvent>();
  for (const e of events) if (e.event !== 'test_started') results.set(e.test, e);
  return { outcome, messages, events, results, dir };
}

/** The failure message of test `name` (throws if it did not fail). */
export function failureOf(run: LuaRun, name: string): string {
  const e = run.results.get(name);
  if (e?.event !== 'test_failed') throw new Error(`test '${name}' did not fail: ${JSON.stringify(e ?? run.outcome)}`);
  return e.error.message;
}
