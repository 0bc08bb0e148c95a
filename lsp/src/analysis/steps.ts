/**
 * Work on a whole document is written as a generator that yields between
 * pieces of about STEP_CHARS of text (a piece parsed, a batch of segments
 * checked): the server runs one piece per turn of its event loop, so a large
 * document never holds up the messages about the others. `runSteps` runs
 * all of it at once.
 */
export type Steps<T> = Generator<void, T, void>;

/** A step's share of text: parsing or checking it takes milliseconds, not seconds (docs/limits.md). */
export const STEP_CHARS = 64 * 1024;

export function runSteps<T>(steps: Steps<T>): T {
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}
