/**
 * `--rerun-failed`: the files that failed in the last run that had failures.
 * The state is a JSON array of absolute paths (the original Provium's shape,
 * so either program reads the other's), written only by runs with failures:
 * a clean run leaves the last failures in place.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { proviumCacheRoot } from '@provium/image/cache-dir';
import type { RunEvent } from '@provium/types';
import { UsageError } from '../errors.js';
import type { Reporter } from '../reporters/reporter.js';

/** $PROVIUM_RERUN_STATE, else `rerun.json` in Provium's cache root (~/.cache/provium unless $PROVIUM_CACHE_DIR or $XDG_CACHE_HOME moves it). */
export function rerunStatePath(): string {
  return process.env.PROVIUM_RERUN_STATE ? path.resolve(process.env.PROVIUM_RERUN_STATE) : path.join(proviumCacheRoot(), 'rerun.json');
}

/** The failed files recorded in `file` (relative entries resolve against `cwd`); [] when there is no state. */
export function readRerunState(file: string, cwd: string): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new UsageError(`--rerun-failed: cannot read ${file}: ${(e as Error).message}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    data = undefined;
  }
  if (!Array.isArray(data) || !data.every((p) => typeof p === 'string')) {
    throw new UsageError(`--rerun-failed: ${file} is not a rerun state (a JSON array of test file paths); delete it, and the next run with failures writes it again`);
  }
  return data.map((p) => path.resolve(cwd, p));
}

const FAILED = new Set(['failed', 'timed_out', 'error']);

/** Records the run's failed files and writes them to the state when the run ends, if there were any. */
export class RerunStateRecorder implements Reporter {
  private readonly failed: string[] = [];

  constructor(
    private readonly file: string,
    /** The absolute path of a file as events name it. */
    private readonly absolute: (file: string) => string,
    private readonly warn: (m: string) => void,
  ) {}

  onEvent(e: RunEvent): void {
    if (e.event === 'file_completed' && FAILED.has(e.status)) this.failed.push(this.absolute(e.file));
  }

  close(): void {
    if (this.failed.length === 0) return;
    // Written aside and renamed: a reader (or a run killed now) never sees half a state.
    const tmp = `${this.file}.tmp-${process.pid}`;
    try {
      mkdirSync(path.dirname(this.file), { recursive: true });
      writeFileSync(tmp, JSON.stringify(this.failed.sort(), null, 1) + '\n');
      renameSync(tmp, this.file);
    } catch (e) {
      rmSync(tmp, { force: true });
      this.warn(`could not record the failed files for --rerun-failed in ${this.file}: ${(e as Error).message}`);
    }
  }
}
