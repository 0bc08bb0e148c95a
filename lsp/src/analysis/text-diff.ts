/**
 * The edit between two texts: what a full-text change (full document sync,
 * `contentChanges: [{ text }]`) becomes, so that it goes through the same
 * incremental re-analysis as a ranged change. The edit is the span between
 * the longest common prefix and the longest common suffix (which does not
 * overlap the prefix) — the minimal single edit an incremental client sends
 * for a keystroke, a paste or a deleted block.
 */

export interface TextEdit {
  /** [start, end) of the old text is replaced by `text`. */
  start: number;
  end: number;
  text: string;
}

/**
 * Texts are compared a block at a time (V8 compares equal-length slices with
 * memcmp), then character by character inside the first differing block: a
 * 4 MB file costs a few hundred block compares, not four million iterations.
 */
const BLOCK = 1024;

function commonPrefix(a: string, b: string, max: number): number {
  let n = 0;
  while (n + BLOCK <= max && a.slice(n, n + BLOCK) === b.slice(n, n + BLOCK)) n += BLOCK;
  while (n < max && a.charCodeAt(n) === b.charCodeAt(n)) n++;
  return n;
}

function commonSuffix(a: string, b: string, max: number): number {
  let n = 0;
  while (n + BLOCK <= max && a.slice(a.length - n - BLOCK, a.length - n) === b.slice(b.length - n - BLOCK, b.length - n)) n += BLOCK;
  while (n < max && a.charCodeAt(a.length - 1 - n) === b.charCodeAt(b.length - 1 - n)) n++;
  return n;
}

/** The single edit that turns `before` into `after` (an empty edit at the end when they are equal). */
export function diffTexts(before: string, after: string): TextEdit {
  const prefix = commonPrefix(before, after, Math.min(before.length, after.length));
  const suffix = commonSuffix(before, after, Math.min(before.length, after.length) - prefix);
  return { start: prefix, end: before.length - suffix, text: after.slice(prefix, after.length - suffix) };
}
