/**
 * One Lua source file as the analysis sees it: its text, line index and
 * segments, updated incrementally by edits (see segments.ts). Work that may
 * be long comes as steps (see steps.ts) for the server to run in slices:
 * segmenting a new text or a large edit, repairing broken segments.
 * A document not in use can rest: its segments (and so its trees) are
 * dropped and rebuilt from its text the next time they are asked for.
 */
import type { Statement } from './ast.js';
import { LineIndex } from './line-index.js';
import { parseLua } from './parse.js';
import { parseRegion, segmentSteps, segmentText, type Segment } from './segments.js';
import { STEP_CHARS, type Steps } from './steps.js';
import { diffTexts } from './text-diff.js';

export type FileKind = 'test' | 'fixture' | 'helper';

export function fileKindOf(path: string): FileKind {
  if (path.endsWith('.test.lua')) return 'test';
  if (path.endsWith('.fixture.lua')) return 'fixture';
  return 'helper';
}

/** True for `test(...)` call statements: edits inside them cannot change what later code sees. */
function isTestCall(s: Statement): boolean {
  return s.type === 'CallStatement' && s.expression.base.type === 'Identifier' && s.expression.base.name === 'test';
}

function declares(seg: Segment): boolean {
  return !(seg.body ?? seg.lastGood).every(isTestCall);
}

const MAX_MERGE = 8;

export class SourceDoc {
  text: string;
  lines: LineIndex;
  /** Undefined while the document rests (see rest()). */
  private segs: Segment[] | undefined;
  /** While resting: the length of each segment it had, to rebuild the same segments. */
  private restingLengths: number[] | undefined;
  /** Bumped when a change may alter top-level declarations (anything but a test body). */
  declEpoch = 0;
  /** Bumped on every change of the text or of the segments (analyses key their caches on it). */
  editEpoch = 0;
  /** Broken segments that repairSteps could not merge with these followers. */
  private repairTried = new WeakMap<Segment, Segment[]>();

  constructor(
    readonly uri: string,
    readonly kind: FileKind,
    text: string,
    public version = 0,
    /** Given when they were made in steps (segmentSteps). */
    segments = segmentText(text),
  ) {
    this.text = text;
    this.lines = new LineIndex(text);
    this.segs = segments;
  }

  get segments(): Segment[] {
    return (this.segs ??= this.wake());
  }

  /**
   * Drops the segments, to be rebuilt from the text when next asked for;
   * false when the document cannot rest. It can when it is short enough to
   * be re-parsed in one step (STEP_CHARS) and every segment parses: a broken
   * segment's last good tree is not in the text. Nothing else changes: the
   * text, its version and the epochs stay, and the analyses made from the
   * old segments stay right for it (the owner drops them to free the trees).
   */
  rest(): boolean {
    const segs = this.segs;
    if (!segs || this.text.length >= STEP_CHARS || segs.some((s) => s.body === null)) return false;
    this.restingLengths = segs.map((s) => s.length);
    this.segs = undefined;
    return true;
  }

  get resting(): boolean {
    return this.segs === undefined;
  }

  /**
   * The segments it had before it rested, each re-parsed on its own: the
   * same statements as a whole parse, except where edits left two statements
   * that a whole parse would read as one (`f` then a line `(g)()`).
   */
  private wake(): Segment[] {
    const out: Segment[] = [];
    let start = 0;
    for (const length of this.restingLengths!) {
      out.push(...parseRegion(this.text.slice(start, start + length), start));
      start += length;
    }
    this.restingLengths = undefined;
    return out;
  }

  /**
   * Full-text replacement (full sync): the edit between the current text and
   * `text` (common prefix and suffix), re-analysed as that ranged edit would be.
   */
  replaceSteps(text: string, version: number): Steps<void> {
    const edit = diffTexts(this.text, text);
    return this.editSteps(edit.start, edit.end, edit.text, version);
  }

  /**
   * Replaces [start, end) with `newText`, re-parsing only the segments it
   * touches; a region longer than STEP_CHARS (a large paste, an edit in a
   * huge statement) is segmented a piece at a time. The document changes
   * after the last step; nothing else may change it meanwhile.
   */
  *editSteps(start: number, end: number, newText: string, version: number): Steps<void> {
    const segs = this.segments;
    const delta = newText.length - (end - start);
    let i = this.firstTouching(start);
    let j = i;
    while (j + 1 < segs.length && segs[j + 1].start <= end) j++;
    // A broken predecessor may be the thing this edit completes.
    if (i > 0 && segs[i - 1].body === null) i--;
    const regionStart = segs[i].start;
    const regionEnd = segs[j].start + segs[j].length + delta;
    const text = this.text.slice(0, start) + newText + this.text.slice(end);
    const region = text.slice(regionStart, regionEnd);
    const old = segs.slice(i, j + 1);
    const fresh = region.length <= STEP_CHARS
      ? parseRegion(region, regionStart, old.flatMap((s) => s.body ?? s.lastGood))
      : yield* segmentSteps(region, regionStart);
    this.text = text;
    this.version = version;
    this.editEpoch++;
    this.lines.update(text, start, end - start, newText.length);
    for (let k = j + 1; k < segs.length; k++) {
      segs[k].start += delta;
      segs[k].base += delta;
    }
    segs.splice(i, j - i + 1, ...fresh);
    if (old.some(declares) || fresh.some(declares)) this.declEpoch++;
  }

  /** Index of the first segment whose end is at or after `offset`. */
  private firstTouching(offset: number): number {
    const segs = this.segments;
    let lo = 0;
    let hi = segs.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (segs[mid].start + segs[mid].length >= offset) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** Index of the segment holding `offset` (an offset at a boundary belongs to the segment it ends). */
  segmentIndexAt(offset: number): number {
    return this.firstTouching(offset);
  }

  get broken(): Segment[] {
    return this.segments.filter((s) => s.body === null);
  }

  /**
   * Idle-time repair: a broken segment may only be complete together with the
   * segments after it (an `if` opened in one statement, closed a few below).
   * Tries merging each broken segment with up to MAX_MERGE followers, once
   * for the same followers, yielding after each; stops when the document is
   * edited meanwhile (the next repair goes on). True when something merged.
   */
  *repairSteps(): Steps<boolean> {
    let changed = false;
    for (let i = 0; i < this.segments.length; i++) {
      const first = this.segments[i];
      if (first.body !== null) continue;
      const followers = this.segments.slice(i + 1, i + 1 + MAX_MERGE);
      const tried = this.repairTried.get(first);
      if (tried && tried.length === followers.length && tried.every((s, k) => s === followers[k])) continue;
      this.repairTried.set(first, followers);
      for (let k = 1; k <= followers.length; k++) {
        const last = followers[k - 1];
        const text = this.text.slice(first.start, last.start + last.length);
        if (!parseLua(text).ok) continue;
        this.segments.splice(i, k + 1, ...parseRegion(text, first.start));
        this.declEpoch++;
        this.editEpoch++;
        changed = true;
        break;
      }
      const epoch = this.editEpoch;
      yield;
      if (this.editEpoch !== epoch) return changed;
    }
    return changed;
  }
}
