import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MessageChannel } from 'node:worker_threads';
import type { FileTask, WorkerMessage } from '@provium/types';
import { expect, test } from 'vitest';
import type { ControlMessage, FileDone, FileLifecycle } from '../pool/protocol.js';
import runSession from './entry.js';

test('a worker session runs the files it is sent in order, each on its own port: started, its messages, file_done; drop skips a waiting one', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'provium-entry-'));
  try {
    const file = path.join(dir, 'a.test.lua');
    writeFileSync(file, 'provium.timeout = "1m"\ntest("one", function(t) t:assert(true) end)\ntest("two", function(t) t:fail("no") end)');
    const task: FileTask = { file, displayPath: 'a.test.lua', roots: [dir], selection: { tags: [], noTags: [], includeSlow: false }, fileTimeoutMs: 10_000, timeoutScale: 1, workerIndex: 3, keepOnFailure: false };
    const control = new MessageChannel();
    const session = runSession({ control: control.port2 });
    let id = 0;
    const send = () =>
      new Promise<(WorkerMessage | FileLifecycle)[]>((resolve) => {
        const { port1, port2 } = new MessageChannel();
        const messages: (WorkerMessage | FileLifecycle)[] = [];
        port1.on('message', (m: WorkerMessage | FileLifecycle) => {
          messages.push(m);
          if (m.kind === 'file_done' || m.kind === 'dropped') {
            port1.close();
            resolve(messages);
          }
        });
        control.port1.postMessage({ kind: 'file', id: ++id, task, port: port2 } satisfies ControlMessage, [port2]);
      });
    // Three at once: the second is dropped while it waits behind the first.
    const runs = [send(), send(), send()];
    control.port1.postMessage({ kind: 'drop', id: 2 } satisfies ControlMessage);
    const [first, dropped, third] = await Promise.all(runs);
    expect(dropped).toEqual([{ kind: 'dropped' }]);
    for (const received of [first, third]) {
      // As it starts, the file asks the main thread which fixtures it names are cached (spares are made
      // of them: fixture-spares.ts); nothing answers here, and the file runs on without.
      const calls = received.filter((m): m is Extract<WorkerMessage, { kind: 'host_call' }> => m.kind === 'host_call');
      expect(calls.map((m) => m.call)).toEqual([{ method: 'cachedFixtures', args: [file] }]);
      const messages = received.filter((m) => m.kind !== 'host_call');
      expect(messages.slice(0, 2)).toEqual([{ kind: 'started' }, { kind: 'file_timeout', timeoutMs: 60_000 }]);
      // A quick file's events travel with its outcome; on a loaded machine the batcher's timer may send some first.
      expect(messages.at(-1)?.kind).toBe('file_done');
      expect(messages.slice(2, -1).every((m) => m.kind === 'events')).toBe(true);
      const done = messages.at(-1) as FileDone;
      expect(done.outcome).toMatchObject({ status: 'failed', passed: 1, failed: 1, skipped: 0 });
      const all = messages.flatMap((m) => (m.kind === 'events' || m.kind === 'file_done' ? m.events : []));
      expect(all.map((e) => `${e.event} ${'test' in e ? e.test : ''}`)).toEqual(['test_started one', 'test_passed one', 'test_started two', 'test_failed two']);
    }
    control.port1.close(); // the session ends with its control port
    await session;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
