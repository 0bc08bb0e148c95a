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

test('after a quiet spell, a test_started leaves at once (a test that then blocks the thread is still named)', async () => {
  const posted: WorkerMessage[] = [];
  const b = new EventBatcher((m) => posted.push(m));
  b.add(ev('quick'));
  expect(posted).toEqual([]); // the file has just started: batched
  b.take();
  const spin = performance.now() + 60;
  while (performance.now() < spin); // the thread is busy: no timer runs
  b.add(ev('blocks'));
  expect(posted).toEqual([{ kind: 'events', events: [ev('blocks')] }]);
  b.add(ev('next'));
  expect(posted).toHaveLength(1); // just posted: batched again
});
