/**
 * Test events leave the worker in batches: a quick file's events go in one
 * message with its outcome; a longer file's about every FLUSH_MS (on a timer
 * while Lua waits, or when the next event arrives while Lua keeps the thread
 * busy), so the main thread knows the running test when it must stop the file.
 * Once a file has run FLUSH_MS, a test_started that comes FLUSH_MS or more
 * after the last message leaves at once: a test that then blocks the thread
 * (a runaway library call) is still named when its worker is terminated.
 */
import type { TestEvent, WorkerMessage } from '@provium/types';

const FLUSH_MS = 50;

export class EventBatcher {
  private events: TestEvent[] = [];
  private firstAt = 0;
  private timer: NodeJS.Timeout | undefined;
  /** When the last message left (at first: when the file started). */
  private postedAt: number;

  constructor(
    private readonly post: (msg: WorkerMessage) => void,
    /** The clock, in ms (tests give their own). */
    private readonly now: () => number = () => performance.now(),
  ) {
    this.postedAt = now();
  }

  add(event: TestEvent): void {
    this.events.push(event);
    if (event.event === 'test_started' && this.now() - this.postedAt >= FLUSH_MS) {
      this.flush();
    } else if (this.events.length === 1) {
      this.firstAt = this.now();
      this.timer = setTimeout(() => this.flush(), FLUSH_MS);
      this.timer.unref();
    } else if (this.now() - this.firstAt >= FLUSH_MS) {
      this.flush();
    }
  }

  /** Posts a non-event message right away, after the events buffered before it. */
  send(msg: WorkerMessage): void {
    this.flush();
    this.postedAt = this.now();
    this.post(msg);
  }

  flush(): void {
    const events = this.take();
    if (events.length === 0) return;
    this.postedAt = this.now();
    this.post({ kind: 'events', events });
  }

  /** Takes the buffered events instead of posting them (the last batch travels with the file's outcome). */
  take(): TestEvent[] {
    clearTimeout(this.timer);
    this.timer = undefined;
    const events = this.events;
    this.events = [];
    return events;
  }
}
