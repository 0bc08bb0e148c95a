import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads';
import type { WorkerMessage } from '@provium/types';
import { expect, test } from 'vitest';
import runFileTask from './entry.js';

test('the worker entry runs a file and posts its events on the port', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'provium-entry-'));
  try {
    const file = path.join(dir, 'a.test.lua');
    writeFileSync(file, 'provium.timeout = "1m"\ntest("one", function(t) t:assert(true) end)\ntest("two", function(t) t:fail("no") end)');
    const { port1, port2 } = new MessageChannel();
    const outcome = await runFileTask({
      task: { file, displayPath: 'a.test.lua', roots: [dir], selection: { tags: [], noTags: [], includeSlow: false }, fileTimeoutMs: 10_000, timeoutScale: 1, workerIndex: 3 },
      port: port1,
    });
    const messages: WorkerMessage[] = [];
    for (let m = receiveMessageOnPort(port2); m; m = receiveMessageOnPort(port2)) messages.push(m.message as WorkerMessage);
    port1.close();
    expect(outcome).toMatchObject({ status: 'failed', passed: 1, failed: 1, skipped: 0 });
    expect(messages[0]).toEqual({ kind: 'file_timeout', timeoutMs: 60_000 });
    expect(messages.slice(1).map((m) => m.kind)).toEqual(['events']);
    const events = messages.flatMap((m) => (m.kind === 'events' ? m.events : []));
    expect(events.map((e) => `${e.event} ${e.test}`)).toEqual(['test_started one', 'test_passed one', 'test_started two', 'test_failed two']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
