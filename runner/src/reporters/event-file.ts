/**
 * `--save-events FILE`: the lines `--json` prints, written to FILE while the
 * human report prints. Each line is written at once (no buffer): a run that
 * is killed leaves every event it emitted, which `provium report merge`
 * reports as an unfinished shard.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import type { RunEvent } from '@provium/types';
import type { Reporter } from './reporter.js';

export class EventFileReporter implements Reporter {
  private fd: number | undefined;

  constructor(path: string) {
    this.fd = openSync(path, 'w');
  }

  onEvent(e: RunEvent): void {
    if (this.fd !== undefined) writeSync(this.fd, JSON.stringify(e) + '\n');
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
