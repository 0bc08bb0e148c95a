/** `--save-durations FILE`: each file's time and each fixture build's, written atomically when the run ends. */
import { renameSync, writeFileSync } from 'node:fs';
import type { RunEvent } from '@provium/types';
import type { Reporter } from '../reporters/reporter.js';
import { DURATIONS_FORMAT } from './durations.js';

export class DurationsRecorder implements Reporter {
  private readonly files = new Map<string, number>();
  private readonly fixtures = new Map<string, number>();

  /** `key` names a test file (as events show it) the way shards do (relative to the project root). */
  constructor(
    private readonly output: string,
    private readonly key: (file: string) => string,
  ) {}

  onEvent(e: RunEvent): void {
    if (e.event === 'file_completed' && e.status !== 'cancelled') this.files.set(this.key(e.file), e.duration_ms);
    else if (e.event === 'fixture_build_done' && e.ok) this.fixtures.set(e.fixture, e.duration_ms);
  }

  close(): void {
    // A run that measured nothing (no test files) keeps the times recorded before.
    if (this.files.size === 0 && this.fixtures.size === 0) return;
    const sorted = (m: Map<string, number>) => Object.fromEntries([...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    const doc = { provium_durations: DURATIONS_FORMAT, files: sorted(this.files), fixtures: sorted(this.fixtures) };
    const tmp = `${this.output}.tmp-${process.pid}`;
    writeFileSync(tmp, JSON.stringify(doc, null, 2) + '\n');
    renameSync(tmp, this.output);
  }
}
