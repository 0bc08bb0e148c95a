/**
 * Bounds on the roots of provium.toml, the same in the runner and the language
 * server: a root is a directory of tests, fixtures and helpers, walked in full
 * (synchronously, by the language server too), not a home directory or a disk.
 */

/** The most files and directories walked under one root. */
export const MAX_ROOT_ENTRIES = 100_000;

export const ROOTS_ADVICE = 'point the roots at the directories that hold your tests, e.g. roots = ["tests"]';

/** Why the root `written` (as in provium.toml), at absolute path `abs`, cannot be one; undefined when it can. */
export function rootProblem(written: string, abs: string): string | undefined {
  // "/" (or "C:\"): its parent is itself
  if (/^([A-Za-z]:)?[\\/]*$/.test(abs)) return `${JSON.stringify(written)} is the filesystem root: ${ROOTS_ADVICE}`;
  return undefined;
}
