/**
 * The main thread's last resort against a file whose worker does not stop:
 * the file's timeout plus HARD_KILL_GRACE_MS, after which `onHit` terminates
 * the worker. The worker ends a timed-out file itself; the grace is its time
 * to clean up. Used by test files (run.ts) and fixture builders (builder.ts).
 */
import { HARD_KILL_GRACE_MS, MAX_TIMER_MS } from '../config/defaults.js';

export class FileDeadline {
  /** The file's timeout as last set (for messages). */
  timeoutMs: number;
  hit = false;
  private started = 0;
  private timer: NodeJS.Timeout | undefined;
  private paused = 0;
  private pausedAt = 0;

  constructor(timeoutMs: number, private readonly onHit: () => void) {
    this.timeoutMs = timeoutMs;
  }

  /** The file began: its timeout counts from now. */
  start(): void {
    this.started = performance.now();
    this.arm(this.timeoutMs);
  }

  /**
   * The file set a timeout of its own (`provium.timeout`), counted from its
   * start. One already over when set (`"1s"` after a long boot) is ended by
   * the worker at its next host call, and still gets the whole grace.
   */
  reset(timeoutMs: number): void {
    this.timeoutMs = timeoutMs;
    if (this.paused > 0) return; // armed again by resume()
    this.arm(Math.max(0, timeoutMs - (performance.now() - this.started)));
  }

  /**
   * The file waits in the resource pool until the matching resume(): that time
   * is not charged (its worker moves its own deadlines the same way).
   */
  pause(): void {
    if (this.paused++ > 0) return;
    this.pausedAt = performance.now();
    clearTimeout(this.timer);
  }

  resume(): void {
    if (--this.paused > 0 || this.hit) return;
    this.started += performance.now() - this.pausedAt;
    this.arm(Math.max(0, this.timeoutMs - (performance.now() - this.started)));
  }

  clear(): void {
    clearTimeout(this.timer);
  }

  private arm(ms: number): void {
    clearTimeout(this.timer);
    // No timeout, or one past what a timer can wait (Node fires those at once): no fallback.
    if (!(ms + HARD_KILL_GRACE_MS <= MAX_TIMER_MS)) return;
    this.timer = setTimeout(() => {
      this.hit = true;
      this.onHit();
    }, ms + HARD_KILL_GRACE_MS);
  }
}
