/**
 * Bytes read ahead from a file or pipe, and Lua's read formats over them
 * ("n", "a", "l", "L", a byte count). A format that cannot be decided without
 * more data answers NEED_MORE; the caller fills the buffer (or marks EOF) and asks again.
 */

export type ReadFormat = { kind: 'n' } | { kind: 'a' } | { kind: 'l'; keepNewline: boolean } | { kind: 'count'; n: number };

export const NEED_MORE = Symbol('need more data');

/** A read result: bytes, a numeral to convert (format "n"), or null at end of file / no number. */
export type ReadResult = Uint8Array | { numeral: Uint8Array } | null | typeof NEED_MORE;

const MAX_NUMERAL = 200;
const EMPTY = Buffer.alloc(0);

export class ReadBuffer {
  private data: Buffer = EMPTY;
  private start = 0;
  eof = false;

  get available(): number {
    return this.data.length - this.start;
  }

  push(chunk: Uint8Array): void {
    this.data = this.start === this.data.length ? Buffer.from(chunk) : Buffer.concat([this.data.subarray(this.start), chunk]);
    this.start = 0;
  }

  /** Drops what is buffered (after a seek or a write). */
  clear(): void {
    this.data = EMPTY;
    this.start = 0;
    this.eof = false;
  }

  private take(n: number): Uint8Array {
    const out = this.data.subarray(this.start, this.start + n);
    this.start += n;
    return Uint8Array.from(out);
  }

  read(format: ReadFormat): ReadResult {
    switch (format.kind) {
      case 'a':
        return this.eof ? this.take(this.available) : NEED_MORE;
      case 'count':
        if (this.available >= Math.max(format.n, 1)) return this.take(format.n);
        if (!this.eof) return NEED_MORE;
        return this.available > 0 ? this.take(this.available) : null;
      case 'l': {
        const nl = this.data.indexOf(10, this.start);
        if (nl >= 0) {
          const line = this.take(nl - this.start + 1);
          return format.keepNewline ? line : line.subarray(0, line.length - 1);
        }
        if (!this.eof) return NEED_MORE;
        return this.available > 0 ? this.take(this.available) : null;
      }
      case 'n':
        return this.readNumeral();
    }
  }

  /** Lua 5.3's read_number: skips whitespace, then takes the longest prefix that looks like a numeral. */
  private readNumeral(): ReadResult {
    const d = this.data;
    let i = this.start;
    const at = (k: number) => (k < d.length ? d[k] : -1);
    while (at(i) === 0x20 || (at(i) >= 0x09 && at(i) <= 0x0d)) i++;
    if (i >= d.length && !this.eof) return NEED_MORE;
    const begin = i;
    const accept = (set: string) => {
      const c = at(i);
      if (c >= 0 && set.includes(String.fromCharCode(c))) {
        i++;
        return true;
      }
      return false;
    };
    const digits = (hex: boolean) => {
      let n = 0;
      for (;;) {
        const c = at(i);
        const isDigit = (c >= 0x30 && c <= 0x39) || (hex && ((c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66)));
        if (!isDigit) return n;
        i++;
        n++;
      }
    };
    accept('-+');
    let hex = false;
    let count = 0;
    if (accept('0')) {
      if (accept('xX')) hex = true;
      else count = 1;
    }
    count += digits(hex);
    if (accept('.')) count += digits(hex);
    if (count > 0 && accept(hex ? 'pP' : 'eE')) {
      accept('-+');
      digits(false);
    }
    // The numeral ran into the end of the buffered data: more may follow.
    if (i >= d.length && !this.eof && i - begin < MAX_NUMERAL) return NEED_MORE;
    const numeral = Uint8Array.from(d.subarray(begin, i));
    this.start = i;
    return { numeral };
  }
}
