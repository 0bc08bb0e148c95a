// The thread pool with fault-injection worker modules (the real runtime is covered by test/cli).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { FileTask, WorkerMessage } from '@provium/types';
import { createWorkerPool } from './pool.js';

const dir = mkdtempSync(path.join(tmpdir(), 'provium-pool-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A worker module whose behaviour depends on the task's file name. */
const entry = path.join(dir, 'worker.mjs');
writeFileSync(
  entry,
  `export default async function ({ task, port }) {
  port.postMessage({ kind: 'file_timeout', timeoutMs: 1234 });
  if (task.file === 'exit') process.exit(3);
  if (task.file === 'hang') await new Promise(() => { setInterval(() => {}, 1000); });
  return { status: 'passed', passed: 1, failed: 0, skipped: 0, log: [task.file] };
}
`,
);

const task = (file: string): FileTask => ({
  file,
  displayPath: file,
  roots: [],
  selection: { tags: [], noTags: [], includeSlow: false },
  fileTimeoutMs: 60_000,
  timeoutScale: 1,
  workerIndex: 0,
  keepOnFailure: false,
});

describe('worker pool', () => {
  it('delivers the worker messages and the outcome', async () => {
    const pool = createWorkerPool(1, { entry: pathToFileURL(entry).href });
    const seen: WorkerMessage[] = [];
    const outcome = await pool.runFile(task('ok'), (m) => seen.push(m), new AbortController().signal);
    expect(outcome.log).toEqual(['ok']);
    expect(seen).toEqual([{ kind: 'file_timeout', timeoutMs: 1234 }]);
    await pool.close();
  });

  it('fails only the file whose worker thread exits, then carries on with a fresh thread', async () => {
    const pool = createWorkerPool(1, { entry: pathToFileURL(entry).href });
    const never = new AbortController().signal;
    await expect(pool.runFile(task('exit'), () => {}, never)).rejects.toThrow(/thread exited in the middle of the file/);
    expect((await pool.runFile(task('after'), () => {}, never)).log).toEqual(['after']);
    await pool.close();
  });

  it('aborting a task terminates its thread and frees the lane', async () => {
    const pool = createWorkerPool(1, { entry: pathToFileURL(entry).href });
    const abort = new AbortController();
    const hung = pool.runFile(task('hang'), () => abort.abort(), abort.signal); // aborted once the worker has started
    await expect(hung).rejects.toThrow(/aborted/);
    expect((await pool.runFile(task('next'), () => {}, new AbortController().signal)).log).toEqual(['next']);
    await pool.close();
  });
});
