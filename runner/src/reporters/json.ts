/** `--json`: every run event as one JSON object per line. */
import type { RunEvent } from '@provium/types';
import type { Reporter } from './reporter.js';

export class JsonReporter implements Reporter {
  constructor(private readonly out: NodeJS.WritableStream) {}

  onEvent(e: RunEvent): void {
    this.out.write(JSON.stringify(e) + '\n');
  }
}
