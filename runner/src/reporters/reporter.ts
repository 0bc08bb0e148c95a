/** What every reporter implements. Reporters see events only (read-only) and import nothing but @provium/types. */
import type { RunEvent } from '@provium/types';

export interface Reporter {
  onRunStart?(files: number): void;
  onEvent(e: RunEvent): void;
  /** Called once after run_completed (writes files, clears the progress line). */
  close?(): Promise<void> | void;
}
