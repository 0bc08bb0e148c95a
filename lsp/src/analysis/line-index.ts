/**
 * Line start offsets of a text, updated incrementally: an edit scans only the
 * text it inserts, and shifts the line starts after it (a rescan to the end
 * of the file cost a large file tens of milliseconds per keystroke). Columns
 * are UTF-16 code units (what LSP uses by default and what JS string offsets are).
 */
export class LineIndex {
  private starts: number[];

  constructor(text: string) {
    this.starts = [0].concat(newlinesIn(text, 0, text.length));
  }

  /** Call after [start, start + removed) was replaced by `inserted` characters, giving `text`. */
  update(text: string, start: number, removed: number, inserted: number): void {
    // Line starts up to `start` stay; those in (start, start + removed] went with the removed text.
    const first = this.lineOf(start) + 1;
    let rest = first;
    while (rest < this.starts.length && this.starts[rest] <= start + removed) rest++;
    const delta = inserted - removed;
    for (let k = rest; k < this.starts.length; k++) this.starts[k] += delta;
    const fresh = newlinesIn(text, start, start + inserted);
    if (rest === first && fresh.length === 0) return;
    // splice() spreads its arguments: a paste of many lines is joined with concat() instead.
    if (fresh.length <= 1024) this.starts.splice(first, rest - first, ...fresh);
    else this.starts = this.starts.slice(0, first).concat(fresh, this.starts.slice(rest));
  }

  get lineCount(): number {
    return this.starts.length;
  }

  /** Zero-based line holding `offset`. */
  lineOf(offset: number): number {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  lineStart(line: number): number {
    return this.starts[Math.max(0, Math.min(line, this.starts.length - 1))];
  }

  position(offset: number): { line: number; character: number } {
    const line = this.lineOf(offset);
    return { line, character: offset - this.starts[line] };
  }

  /** Offset of a zero-based line/character, clamped to the text (`textLength`). */
  offset(line: number, character: number, textLength: number): number {
    if (line >= this.starts.length) return textLength;
    const start = this.starts[Math.max(0, line)];
    const next = line + 1 < this.starts.length ? this.starts[line + 1] - 1 : textLength;
    return Math.min(start + Math.max(0, character), Math.max(start, next));
  }
}

/** The line starts that the newlines of text[from, to) make. */
function newlinesIn(text: string, from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = from; i < to; i++) {
    if (text.charCodeAt(i) === 10) out.push(i + 1);
  }
  return out;
}
