/**
 * Runs analysis steps (analysis/steps.ts) one per turn of the event loop:
 * between two steps of a large document, Node reads the messages that arrived
 * and answers those about the other documents. Work that never yields (a
 * small document) is done at once, in the caller's turn.
 */
import type { Steps } from './analysis/steps.js';

/** Runs `steps`; `done` gets the result in the turn of the last step, `failed` what a step threw. */
export function sliced<T>(steps: Steps<T>, done: (value: T) => void, failed: (error: unknown) => void): void {
  const step = () => {
    let r: IteratorResult<void, T>;
    try {
      r = steps.next();
    } catch (e) {
      failed(e);
      return;
    }
    if (r.done) done(r.value);
    else setImmediate(step);
  };
  step();
}

export function runSliced<T>(steps: Steps<T>): Promise<T> {
  return new Promise((resolve, reject) => sliced(steps, resolve, reject));
}

/** `steps`, abandoned (undefined) at the first step after which `stale()` holds. */
export function* until<T>(steps: Steps<T>, stale: () => boolean): Steps<T | undefined> {
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
    yield;
    if (stale()) return undefined;
  }
}
