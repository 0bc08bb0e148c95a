/**
 * `--tag-meta KEY=VALUE` / `--no-tag-meta KEY=VALUE`: select tests by any key
 * of their meta table. Shared by the worker (which runs the selection) and
 * `provium list` (which shows it without running anything).
 */
import type { MetaPair } from '@provium/types';

export type { MetaPair };

/**
 * Whether meta value `v` is VALUE: a string equal to it, a number or boolean
 * whose text is it (`priority = 1` matches `priority=1`), or a list with such
 * an element. Tables with other keys never match.
 */
function holds(v: unknown, value: string): boolean {
  if (Array.isArray(v)) return v.some((e) => !Array.isArray(e) && holds(e, value));
  return (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') && String(v) === value;
}

/**
 * The test is selected when, for every KEY given with --tag-meta, its
 * meta[KEY] holds one of that KEY's values (OR within a key, AND across
 * keys), and no --no-tag-meta pair holds (the negative form wins).
 */
export function metaSelected(meta: Record<string, unknown>, want: readonly MetaPair[] = [], skip: readonly MetaPair[] = []): boolean {
  const has = (p: MetaPair) => Object.hasOwn(meta, p.key) && holds(meta[p.key], p.value);
  if (skip.some(has)) return false;
  const keys = new Set(want.map((p) => p.key));
  return [...keys].every((k) => want.some((p) => p.key === k && has(p)));
}
