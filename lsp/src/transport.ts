/**
 * The framing of LSP over a byte stream, checked before vscode-jsonrpc reads
 * it. Its reader, given a header block without a usable Content-Length,
 * reports an error and then takes the body that follows for the next header
 * block, and so on for every later message: one bad header silenced the
 * server for good. HeaderFilter passes well-framed messages through byte for
 * byte; for a bad header block it calls `onBadHeader` (the server answers
 * with a JSON-RPC parse error) and skips to the next `Content-Length:`, where
 * the next message starts (a body has no end marker, so the header that
 * follows it may start in the middle of a line).
 */
import { Transform, type TransformCallback } from 'node:stream';

const HEADER_END = '\r\n\r\n';
const NEXT_HEADER = /content-length:/i;
/** Header blocks are a line or two: this much without an end is not one. */
const MAX_HEADER_BYTES = 8192;
/** Kept while searching for NEXT_HEADER: it may be cut between two chunks. */
const KEEP = 'content-length:'.length - 1;

/** The body length a header block announces, or why it announces none (the rules of vscode-jsonrpc's reader). */
function contentLength(block: string): number | string {
  let length: number | string = 'no Content-Length header';
  for (const line of block.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) return `header line without ':' (${JSON.stringify(line.slice(0, 80))})`;
    if (line.slice(0, colon).toLowerCase() !== 'content-length') continue;
    const value = line.slice(colon + 1).trim();
    length = /^\d+$/.test(value) ? Number(value) : `Content-Length is not a number (${JSON.stringify(value.slice(0, 80))})`;
  }
  return length;
}

export class HeaderFilter extends Transform {
  private pending: Buffer = Buffer.alloc(0);
  /** Bytes of the current body still to pass through. */
  private bodyLeft = 0;
  private resyncing = false;

  constructor(private readonly onBadHeader: (message: string) => void) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    while (this.pending.length) {
      if (this.bodyLeft > 0) {
        const n = Math.min(this.bodyLeft, this.pending.length);
        this.push(this.pending.subarray(0, n));
        this.pending = this.pending.subarray(n);
        this.bodyLeft -= n;
      } else if (this.resyncing) {
        // latin1: one character per byte, so string offsets are buffer offsets.
        const at = this.pending.toString('latin1').search(NEXT_HEADER);
        if (at < 0) {
          this.pending = this.pending.subarray(Math.max(0, this.pending.length - KEEP));
          break;
        }
        this.pending = this.pending.subarray(at);
        this.resyncing = false;
      } else if (!this.header()) break;
    }
    done();
  }

  /** Reads one header block at the start of `pending`; false when it is not all there yet. */
  private header(): boolean {
    const end = this.pending.indexOf(HEADER_END);
    if (end < 0) {
      if (this.pending.length <= MAX_HEADER_BYTES) return false;
      this.bad(`no blank line ends the header block within ${MAX_HEADER_BYTES} bytes`, 1);
      return true;
    }
    const block = end + HEADER_END.length;
    const length = contentLength(this.pending.toString('latin1', 0, end));
    if (typeof length === 'string') {
      this.bad(length, block);
      return true;
    }
    this.push(this.pending.subarray(0, block));
    this.pending = this.pending.subarray(block);
    this.bodyLeft = length;
    return true;
  }

  /** Drops `skip` bytes and what follows them up to the next Content-Length. */
  private bad(why: string, skip: number): void {
    this.onBadHeader(`Parse error: a message header without a usable Content-Length: ${why}; skipped to the next Content-Length header`);
    this.pending = this.pending.subarray(skip);
    this.resyncing = true;
  }
}
