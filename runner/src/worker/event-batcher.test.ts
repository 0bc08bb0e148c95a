import type { TestEvent, WorkerMessage } from '@provium/types';
import { expect, test } from 'vitest';
import { EventBatcher } from './event-batcher.js';

const ev = (test: string): TestEvent => ({ event: 'test_started', timestamp: '', file: 'f', test, meta: {} });

test('events are batched; other messages flush the events before them', () => {
  const posted: WorkerMessage[] = [];
  const b = new EventBatcher((m) => posted.push(m));
  b.add(ev('a'));
  b.add(ev('b'));
  expect(posted).toEqual([]);
  b.send({ kind: 'file_timeout', timeoutMs: 5 });
  b.add(ev('c'));
  b.flush();
  b.flush();
  expect(posted).toEqual([{ kind: 'events', events: [ev('a'), ev('b')] }, { kind: 'file_timeout', timeoutMs: 5 }, { kind: 'events', events: [ev('c')] }]);
});

test('a batch left alone is flushed by its timer', async () => {
  const posted: WorkerMessage[] = [];
  const b = new EventBatcher((m) => posted.push(m));
  b.add(ev('a'));
  await new Promise<void>((resolve) => {
    const poll = setInterval(() => {
      if (posted.length > 0) {
        clearInterval(poll);
        resolve();
      }
    }, 5);
  });
  expect(posted).toEqual([{ kind: 'events', events: [ev('a')] }]);
});
