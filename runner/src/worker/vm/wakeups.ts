/** Readers parked until something arrives: what a Stream and a PacketCapture wait on. */
import { timerMs } from '../runtime/timer.js';

export class Wakeups {
  private readonly waiters = new Set<() => void>();

  /** Resolves at the next `wake()`, at `deadline` (epoch ms) or when `signal` aborts, whichever comes first. */
  wait(deadline: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, timerMs(deadline - Date.now()));
      this.waiters.add(done);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  /** Data came, or the end: every parked reader looks again. */
  wake(): void {
    for (const w of [...this.waiters]) w();
  }
}
