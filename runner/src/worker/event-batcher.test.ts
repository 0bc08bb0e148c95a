import type { TestEvent, WorkerMessage } from '@provium/types';
import { afterEach, expect, test, vi } from 'vitest';
import { EventBatcher } from './event-batcher.js';

const ev = (test: string): TestEvent => ({ event: 'test_started', timestamp: '', file: 'f', test, meta: {} });
const passed = (test: string): TestEvent => ({ event: 'test_passed', timestamp: '', file: 'f', test, meta: {}, duration_ms: 1, log: [] });

/** A batcher on a clock the test moves by hand (ms since the file started). */
function batcher() {
  const posted: WorkerMessage[] = [];
  const clock = { ms: 0 };
  return { posted, clock, b: new EventBatcher((m) => posted.push(m), () => clock.ms) };
}

afterEach(() => {
  vi.useRealTimers();
});

test('events are batched; other messages flush the events before them', () => {
  const { posted, b } = batcher();
  b.add(ev('a'));
  b.add(ev('b'));
  expect(posted).toEqual([]);
  b.send({ kind: 'file_timeout', timeoutMs: 5 });
  b.add(ev('c'));
  b.flush();
  b.flush();
  expect(posted).toEqual([{ kind: 'events', events: [ev('a'), ev('b')] }, { kind: 'file_timeout', timeoutMs: 5 }, { kind: 'events', events: [ev('c')] }]);
});

test('a batch left alone is flushed by its timer, 50 ms after its first event', () => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  const { posted, b } = batcher();
  b.add(ev('a'));
  vi.advanceTimersByTime(49);
  expect(posted).toEqual([]);
  vi.advanceTimersByTime(1);
  expect(posted).toEqual([{ kind: 'events', events: [ev('a')] }]);
});

test('while the thread is busy (no timer runs), the first event 50 ms after the batch began takes the batch along', () => {
  const { posted, clock, b } = batcher();
  b.add(ev('a'));
  clock.ms = 49;
  b.add(passed('a'));
  expect(posted).toEqual([]);
  clock.ms = 50;
  b.add(passed('b'));
  expect(posted).toEqual([{ kind: 'events', events: [ev('a'), passed('a'), passed('b')] }]);
});

test('after a quiet spell, a test_started leaves at once (a test that then blocks the thread is still named)', () => {
  const { posted, clock, b } = batcher();
  b.add(ev('quick'));
  expect(posted).toEqual([]); // the file has just started: batched
  b.take();
  clock.ms = 49;
  b.add(ev('too soon'));
  expect(posted).toEqual([]);
  b.take();
  clock.ms = 50; // 50 ms since the file started, and no message since: the thread was busy
  b.add(ev('blocks'));
  expect(posted).toEqual([{ kind: 'events', events: [ev('blocks')] }]);
  b.add(ev('next'));
  expect(posted).toHaveLength(1); // just posted: batched again
});
