/**
 * Test events leave the worker in batches: one message per file when it is
 * quick, otherwise about every FLUSH_MS (on a timer while Lua waits, or when
 * the next event arrives while Lua keeps the thread busy).
 */
import type { TestEvent, WorkerMessage } from '@provium/types';

const FLUSH_MS = 50;

export class EventBatcher {
  private events: TestEvent[] = [];
  private firstAt = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly post: (msg: WorkerMessage) => void) {}

  add(event: TestEvent): void {
    this.events.push(event);
    if (this.events.length === 1) {
      this.firstAt = performance.now();
      this.timer = setTimeout(() => this.flush(), FLUSH_MS);
      this.timer.unref();
    } else if (performance.now() - this.firstAt >= FLUSH_MS) {
      this.flush();
    }
  }

  /** Posts a non-event message right away, after the events buffered before it. */
  send(msg: WorkerMessage): void {
    this.flush();
    this.post(msg);
  }

  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.events.length === 0) return;
    const events = this.events;
    this.events = [];
    this.post({ kind: 'events', events });
  }
}
