/**
 * Timing spans of VM work, for benchmarks: with `PROVIUM_TRACE=<file>` set,
 * every span is appended to that file as one JSON line `{span, vm, start, ms}`
 * (`start`: epoch milliseconds, comparable across threads). Unset, a span
 * costs one comparison. bench/lab reads them to break a lab resume down.
 */
import { appendFileSync } from 'node:fs';

const TRACE_FILE = process.env.PROVIUM_TRACE || undefined;

/** The clock of every span: epoch milliseconds with sub-millisecond resolution. */
const now = () => performance.timeOrigin + performance.now();

/** Times `op` as span `span` of `vm` (a lab's name for lab-wide work). */
export async function traced<T>(span: string, vm: string, op: () => Promise<T>): Promise<T> {
  if (TRACE_FILE === undefined) return op();
  const start = now();
  try {
    return await op();
  } finally {
    // One short line per write: O_APPEND keeps the lines of concurrent threads whole.
    appendFileSync(TRACE_FILE, `${JSON.stringify({ span, vm, start: Math.round(start * 1000) / 1000, ms: Math.round((now() - start) * 1000) / 1000 })}\n`);
  }
}
