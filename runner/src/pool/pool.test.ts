// The thread pool with fault-injection worker modules (the real runtime is covered by test/cli).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { FileTask, WorkerMessage } from '@provium/types';
import { createWorkerPool, FileNotStarted } from './pool.js';

const dir = mkdtempSync(path.join(tmpdir(), 'provium-pool-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A worker module whose behaviour depends on the task's file name. */
const entry = path.join(dir, 'worker.mjs');
writeFileSync(
  entry,
  `import { threadId } from 'node:worker_threads';
export default function ({ control }) {
  return new Promise((resolve) => {
    const queue = [];
    let busy = false;
    const next = async () => {
      if (busy || queue.length === 0) return;
      busy = true;
      await new Promise((r) => setImmediate(r));
      const m = queue.shift();
      if (!m) { busy = false; return next(); }
      const { task, port } = m;
      port.postMessage({ kind: 'started' });
      port.postMessage({ kind: 'file_timeout', timeoutMs: 1234 });
      if (task.file === 'exit') process.exit(3);
      if (task.file === 'hang') await new Promise(() => { setInterval(() => {}, 1000); });
      if (task.file === 'oom') { const keep = []; for (;;) keep.push(new Array(1e6).fill(1)); }
      if (task.file.startsWith('slow')) await new Promise((r) => setTimeout(r, 200));
      port.postMessage({ kind: 'file_done', outcome: { status: 'passed', passed: 1, failed: 0, skipped: 0, log: [task.file, String(threadId), String(globalThis.seen = (globalThis.seen ?? 0) + 1)] }, events: [] });
      port.close();
      busy = false;
      next();
    };
    control.once('close', resolve);
    control.on('message', (m) => {
      if (m.kind === 'drop') {
        const i = queue.findIndex((q) => q.id === m.id);
        if (i >= 0) { queue[i].port.postMessage({ kind: 'dropped' }); queue[i].port.close(); queue.splice(i, 1); }
        return;
      }
      queue.push(m);
      next();
    });
  });
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
    expect(outcome.log[0]).toBe('ok');
    expect(seen).toEqual([{ kind: 'file_timeout', timeoutMs: 1234 }]);
    await pool.close();
  });

  it('fails only the file whose worker thread exits, then carries on with a fresh thread', async () => {
    const pool = createWorkerPool(1, { entry: pathToFileURL(entry).href });
    const never = new AbortController().signal;
    await expect(pool.runFile(task('exit'), () => {}, never)).rejects.toThrow(/thread exited in the middle of the file/);
    expect((await pool.runFile(task('after'), () => {}, never)).log[0]).toBe('after');
    await pool.close();
  });

  it('aborting a task terminates its thread and frees the lane', async () => {
    const pool = createWorkerPool(1, { entry: pathToFileURL(entry).href });
    const abort = new AbortController();
    const hung = pool.runFile(task('hang'), () => abort.abort(), abort.signal); // aborted once the worker has started
    await expect(hung).rejects.toThrow(/aborted/);
    expect((await pool.runFile(task('next'), () => {}, new AbortController().signal)).log[0]).toBe('next');
    await pool.close();
  });

  it('runs the files of a lane in one long-lived session', async () => {
    const pool = createWorkerPool(1, { entry: pathToFileURL(entry).href });
    const never = new AbortController().signal;
    const counts: string[] = [];
    for (const f of ['a', 'b', 'c']) counts.push((await pool.runFile(task(f), () => {}, never)).log[2]);
    expect(counts).toEqual(['1', '2', '3']); // the same thread's globals each time
    await pool.close();
  });

  it('fails the file whose thread runs out of memory, then carries on', async () => {
    const pool = createWorkerPool(2, { entry: pathToFileURL(entry).href, maxHeapMb: 32 });
    const never = new AbortController().signal;
    const [oom, fine] = await Promise.allSettled([pool.runFile(task('oom'), () => {}, never), pool.runFile(task('fine'), () => {}, never)]);
    expect(oom.status).toBe('rejected');
    expect(fine).toMatchObject({ status: 'fulfilled', value: { log: ['fine', expect.any(String), '1'] } });
    expect((await pool.runFile(task('after'), () => {}, never)).log[0]).toBe('after');
    await pool.close();
  });

  it('queues files beyond the thread count', async () => {
    const pool = createWorkerPool(2, { entry: pathToFileURL(entry).href });
    const never = new AbortController().signal;
    const outcomes = await Promise.all(['a', 'b', 'c', 'd', 'e'].map((f) => pool.runFile(task(f), () => {}, never)));
    expect(outcomes.map((o) => o.log[0])).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(new Set(outcomes.map((o) => o.log[1])).size).toBe(2); // two threads, each reused
    await pool.close();
  });

  it('sends a lane its next file while one runs, reports when each begins, and drops a waiting file on abort', async () => {
    const pool = createWorkerPool(1, { entry: pathToFileURL(entry).href });
    const never = new AbortController().signal;
    const order: string[] = [];
    const first = pool.runFile(task('slow-1'), () => {}, never, { lane: 0, started: () => order.push('started slow-1') }).then((o) => {
      order.push('done slow-1');
      return o;
    });
    const second = pool.runFile(task('second'), () => {}, never, { lane: 0, started: () => order.push('started second') });
    const dropMe = new AbortController();
    const third = pool.runFile(task('third'), () => {}, dropMe.signal, { lane: 0, started: () => order.push('started third') });
    dropMe.abort();
    await expect(third).rejects.toBeInstanceOf(FileNotStarted);
    expect((await first).log[0]).toBe('slow-1');
    expect((await second).log[0]).toBe('second');
    expect(order).toEqual(['started slow-1', 'done slow-1', 'started second']); // a lane's files begin in turn
    await pool.close();
  });

  it('`drop` takes back a waiting file and never stops a file that has begun', async () => {
    const pool = createWorkerPool(1, { entry: pathToFileURL(entry).href });
    const never = new AbortController().signal;
    const dropBegun = new AbortController();
    const first = pool.runFile(task('slow-a'), () => {}, never, { lane: 0, drop: dropBegun.signal });
    const dropWaiting = new AbortController();
    const second = pool.runFile(task('b'), () => {}, never, { lane: 0, drop: dropWaiting.signal });
    dropBegun.abort();
    dropWaiting.abort();
    await expect(second).rejects.toBeInstanceOf(FileNotStarted);
    expect((await first).log[0]).toBe('slow-a'); // began at once on the idle thread: it runs on
    await pool.close();
  });

  it('a file waiting behind one whose thread is terminated did not start; the lane goes on with a fresh thread', async () => {
    const pool = createWorkerPool(1, { entry: pathToFileURL(entry).href });
    const abort = new AbortController();
    const hung = expect(pool.runFile(task('hang'), () => abort.abort(), abort.signal, { lane: 0 })).rejects.toThrow(/aborted/);
    // taken up at once: it may be refused before the hung file's own rejection arrives
    const waiting = expect(pool.runFile(task('waiting'), () => {}, new AbortController().signal, { lane: 0 })).rejects.toBeInstanceOf(FileNotStarted);
    await hung;
    await waiting;
    expect((await pool.runFile(task('again'), () => {}, new AbortController().signal, { lane: 0 })).log[0]).toBe('again');
    await pool.close();
  });
});
