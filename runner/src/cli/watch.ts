/**
 * `provium test --watch`: run, then run again whenever a watched file (a test
 * file, a fixture or provium.toml) changes, is added or is removed, until
 * Ctrl-C. Files are polled every 500 ms (as the original Provium does; no
 * inotify limits, and it works on network file systems). Each run is a whole
 * run: its VMs, worker threads and services end before the next one starts.
 */
import { statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { UsageError } from '../errors.js';
import { onCtrlC } from './interrupt.js';

export const WATCH_POLL_MS = 500;

export interface Watched {
  /** One run; `first` is true for the run that starts the watch. Resolves with its exit status. */
  run(signal: AbortSignal, first: boolean): Promise<number>;
  /** The files whose changes start a run (found again at every poll: new files count). */
  files(): string[];
  notice(m: string): void;
}

/** What a poll compares: each file's path, modification time and size (or why the files could not be listed). */
function fingerprint(w: Watched): string {
  let files: string[];
  try {
    files = w.files();
  } catch (e) {
    return `! ${(e as Error).message}`;
  }
  return files
    .map((f) => {
      const st = statSync(f, { bigint: true, throwIfNoEntry: false });
      return `${f}\0${st?.mtimeNs ?? '-'}\0${st?.size ?? '-'}`;
    })
    .join('\n');
}

/** Resolves 130 (interrupted) when Ctrl-C ends the watch. */
export async function watch(w: Watched): Promise<number> {
  const stop = new AbortController();
  const off = onCtrlC(stop, 'the watch');
  try {
    for (let first = true; !stop.signal.aborted; first = false) {
      // Taken before the run: a file saved while it runs starts the next one.
      const before = fingerprint(w);
      try {
        await w.run(stop.signal, first);
      } catch (e) {
        // A bad provium.toml or a test file that went away: say so, and run again once it is fixed.
        if (!(e instanceof UsageError)) throw e;
        w.notice(e.message);
      }
      if (stop.signal.aborted) break;
      w.notice(`--watch: waiting for changes to the test files (Ctrl-C to stop)`);
      while (!stop.signal.aborted && fingerprint(w) === before) await sleep(WATCH_POLL_MS, undefined, { signal: stop.signal }).catch(() => {});
      if (!stop.signal.aborted) w.notice('--watch: a change: running again');
    }
    return 130;
  } finally {
    off();
  }
}
