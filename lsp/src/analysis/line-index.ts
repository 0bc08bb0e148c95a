/**
 * Line start offsets of a text, updated incrementally: an edit only rescans
 * from the line it starts on. Columns are UTF-16 code units (what LSP uses by
 * default and what JS string offsets are).
 */
export class LineIndex {
  private starts: number[] = [0];

  constructor(text: string) {
    this.rescanFrom(text, 0);
  }

  /** Call after the text changed at `offset` (anything before it unchanged). */
  update(text: string, offset: number): void {
    this.rescanFrom(text, this.lineOf(offset));
  }

  private rescanFrom(text: string, line: number): void {
    this.starts.length = line + 1;
    for (let i = this.starts[line]; i < text.length; i++) {
      if (text.charCodeAt(i) === 10) this.starts.push(i + 1);
    }
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
