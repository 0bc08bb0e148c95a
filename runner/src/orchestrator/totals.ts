/** The counts of run_completed, added up file by file: the one rule `provium test` and `provium report merge` share. */
import type { FileCompleted } from '@provium/types';

export interface RunTotals {
  passed: number;
  failed: number;
  skipped: number;
  files: number;
  failed_files: number;
}

export const noTotals = (): RunTotals => ({ passed: 0, failed: 0, skipped: 0, files: 0, failed_files: 0 });

/** Adds one finished file; true when the file failed. */
export function addFile(totals: RunTotals, done: FileCompleted): boolean {
  totals.files++;
  totals.passed += done.passed;
  totals.skipped += done.skipped;
  const fileLevelFailure = done.status === 'timed_out' || done.status === 'error';
  // A file that fails outside any test (syntax error, timeout, crash) counts as one failure.
  totals.failed += done.failed > 0 ? done.failed : fileLevelFailure ? 1 : 0;
  const failed = done.status === 'failed' || fileLevelFailure;
  if (failed) totals.failed_files++;
  return failed;
}
