/**
 * A document is kept as a list of segments that tile its text, one per
 * top-level statement (plus the whitespace and comments before it). An edit
 * re-parses only the segments it touches, so the cost of a keystroke is the
 * size of the enclosing top-level statement, not of the file. A segment that
 * does not parse keeps its syntax error, the nodes luaparse completed before
 * the error, and the statements of its last good parse (for declarations).
 */
import type { Node, Statement } from './ast.js';
import { parseLua, type SyntaxProblem } from './parse.js';
import { runSteps, STEP_CHARS, type Steps } from './steps.js';
import { lex } from './tokens.js';

export interface Segment {
  readonly id: number;
  /** Absolute offset of the segment's first character. */
  start: number;
  length: number;
  /** Absolute offset that node ranges of this segment are relative to. */
  base: number;
  /** The statements, or null when this segment does not parse on its own. */
  body: Statement[] | null;
  error?: SyntaxProblem;
  /** Local declarations luaparse completed before the error (offsets relative to `base`). */
  partial?: Node[];
  /** For a broken segment: statements of the last good parse of this region.
   * Their ranges are stale; they only supply declarations to later code. */
  lastGood: Statement[];
}

let nextId = 1;

function makeSegment(start: number, length: number, base: number, body: Statement[] | null, extra: Partial<Segment> = {}): Segment {
  return { id: nextId++, start, length, base, body, lastGood: body ?? [], ...extra };
}

/** Segments for a region that parsed: one per statement, tiling [regionStart, regionStart + regionLength). */
function tile(body: Statement[], regionStart: number, regionLength: number): Segment[] {
  if (body.length === 0) return [makeSegment(regionStart, regionLength, regionStart, [])];
  const out: Segment[] = [];
  let prev = 0;
  body.forEach((stmt, k) => {
    const end = k === body.length - 1 ? regionLength : stmt.to;
    out.push(makeSegment(regionStart + prev, end - prev, regionStart, [stmt]));
    prev = end;
  });
  return out;
}

/** Parses `text` (found at absolute `start`) as one region: tiled segments, or one broken segment. */
export function parseRegion(text: string, start: number, lastGood: Statement[] = []): Segment[] {
  const r = parseLua(text);
  if (r.ok) return tile(r.body, start, text.length);
  return [makeSegment(start, text.length, start, null, { error: r.error, partial: r.partial, lastGood })];
}

// Tokens that continue an earlier statement even at column 0.
const CONTINUATIONS = new Set(['end', 'else', 'elseif', 'until', ')', '}', ']', ',', '.', ':', '..', 'and', 'or', '=', 'then', 'do', 'in']);
const MAX_BLOCKS_PER_STATEMENT = 40;

/** Offsets where a line starts at column 0 with a token that can begin a statement. */
function blockStarts(text: string): number[] {
  const starts = [0];
  for (const t of lex(text).tokens) {
    if (t.start > 0 && text[t.start - 1] === '\n' && !CONTINUATIONS.has(t.text)) starts.push(t.start);
  }
  return starts;
}

/**
 * The segments of a broken text: it is cut at column-0 lines (top-level code
 * is not indented) and each piece is parsed on its own, growing a piece while
 * its error is "unexpected end" — so one syntax error costs one segment, and
 * the rest of the file keeps its trees.
 */
function* brokenSteps(text: string, start: number): Steps<Segment[]> {
  const bounds = [...blockStarts(text), text.length];
  const out: Segment[] = [];
  let i = 0;
  while (i < bounds.length - 1) {
    let done = false;
    for (let j = i + 1; j < bounds.length && j - i <= MAX_BLOCKS_PER_STATEMENT; j++) {
      const piece = text.slice(bounds[i], bounds[j]);
      const r = parseLua(piece);
      yield;
      if (r.ok) {
        out.push(...tile(r.body, start + bounds[i], piece.length));
        i = j;
        done = true;
        break;
      }
      // Only an error at the very end of the piece can be cured by more text.
      if (r.error.index < piece.trimEnd().length) break;
    }
    if (!done) {
      out.push(...parseRegion(text.slice(bounds[i], bounds[i + 1]), start + bounds[i]));
      i++;
    }
  }
  return out;
}

/**
 * Where a piece of a long text may end: before a line that starts at column
 * 0 with a name that cannot continue the statement above it. A cut inside a
 * statement, string or comment leaves the piece unfinished at its end, and the
 * piece grows; names cannot continue an expression, `(` could, so only names count.
 */
const CUT = /\n(?!(?:and|or|then|do|end|else|elseif|until|in)\b)[A-Za-z_]/g;

function cutAfter(text: string, offset: number): number {
  CUT.lastIndex = offset;
  const m = CUT.exec(text);
  return m ? m.index + 1 : text.length;
}

/**
 * Segments for a whole text. A text that parses is split at its top-level
 * statements; a broken one as `brokenSteps` does. A text longer than
 * STEP_CHARS is parsed a piece of about STEP_CHARS at a time (so that it can
 * be parsed between other work), a piece doubling while its error is at its
 * end (a statement goes on past it); a piece with an error inside is broken.
 */
export function* segmentSteps(text: string, start = 0): Steps<Segment[]> {
  if (text.length <= STEP_CHARS) {
    const whole = parseLua(text);
    return whole.ok ? tile(whole.body, start, text.length) : yield* brokenSteps(text, start);
  }
  const out: Segment[] = [];
  let from = 0;
  while (from < text.length) {
    for (let size = STEP_CHARS; ; size *= 2) {
      const to = cutAfter(text, from + size);
      const piece = text.slice(from, to);
      const r = parseLua(piece);
      yield;
      if (!r.ok && r.error.index >= piece.trimEnd().length && to < text.length) continue;
      out.push(...(r.ok ? tile(r.body, start + from, piece.length) : yield* brokenSteps(piece, start + from)));
      from = to;
      break;
    }
  }
  return out;
}

export function segmentText(text: string, start = 0): Segment[] {
  return runSteps(segmentSteps(text, start));
}
