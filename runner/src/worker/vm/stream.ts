/**
 * A Stream: output read as it arrives (a process's stdout/stderr, the
 * console, a tailed guest file). Unread data is buffered; reads take from the
 * front, and bytes past a match stay for the next read. Needles are found as
 * literal text first, else as Lua patterns (lua-find.ts). A closed stream
 * reads as the end (api-parity §13). Closed automatically at the end of the
 * test or file that opened it.
 */
import { findNeedle } from './lua-find.js';
import { Wakeups } from './wakeups.js';

/**
 * Unread bytes a stream keeps: past this, the oldest go, and the next read
 * raises once to say how many (a guest that floods an unread stream cannot
 * fill the host's memory).
 */
export const STREAM_UNREAD_MAX = 16 * 1024 * 1024;
/** The most one `next()` returns. */
export const STREAM_CHUNK_MAX = 1024 * 1024;

export class Stream {
  /** Unread data: chunks as they came, joined only when read. */
  private chunks: Buffer[] = [];
  private unread = 0;
  /** Bytes dropped unread since the last read said so. */
  private dropped = 0;
  private ended = false;
  private closed = false;
  private readonly arrivals = new Wakeups();
  private detach: () => void = () => {};
  /** Called once when the stream is closed (by the author or at the end of its scope). */
  onClose: (() => void) | undefined;

  constructor(
    /** Where it was opened, for messages: `vm "a": stdout of "cmd"`. */
    readonly label: string,
    /**
     * Asked once the source has ended: the error to raise instead of a plain
     * end of stream when the source ended because the VM died.
     */
    private readonly endCause: () => Promise<Error | undefined> = async () => undefined,
  ) {}

  /** Connects a source: `push` data, `end` once; returns how to disconnect. */
  attach(subscribe: (push: (data: Uint8Array) => void, end: () => void) => () => void): void {
    this.detach = subscribe(
      (data) => {
        if (this.closed) return;
        this.chunks.push(Buffer.from(data));
        this.unread += data.length;
        if (this.unread > STREAM_UNREAD_MAX) this.dropOldest(this.unread - STREAM_UNREAD_MAX);
        this.arrivals.wake();
      },
      () => {
        this.ended = true;
        this.arrivals.wake();
      },
    );
  }

  private dropOldest(n: number): void {
    const all = this.buf;
    this.chunks = [all.subarray(n)];
    this.unread -= n;
    this.dropped += n;
  }

  /** The unread data as one buffer. */
  private get buf(): Buffer {
    if (this.chunks.length !== 1) this.chunks = [Buffer.concat(this.chunks, this.unread)];
    return this.chunks[0]!;
  }

  /** Raises once after bytes were dropped unread. */
  private checkDropped(): void {
    if (this.dropped > 0) {
      const n = this.dropped;
      this.dropped = 0;
      throw new Error(`${this.label}: ${n} bytes were dropped unread (a stream keeps at most ${STREAM_UNREAD_MAX / 1024 / 1024} MiB it was not read): read it more often, or close it; reading goes on from the bytes kept`);
    }
  }

  private take(n: number): Buffer {
    const all = this.buf;
    this.chunks = [all.subarray(n)];
    this.unread -= n;
    return Buffer.from(all.subarray(0, n));
  }

  /**
   * The next chunk (everything unread, up to STREAM_CHUNK_MAX), waiting up to
   * `seconds`; undefined at the end of the stream, after close and when the
   * time passes with nothing to return.
   */
  async next(seconds: number, signal: AbortSignal): Promise<Buffer | undefined> {
    if (this.closed) return undefined;
    this.checkDropped();
    const deadline = Date.now() + seconds * 1000;
    while (this.unread === 0 && !this.ended) {
      if (Date.now() >= deadline) return undefined;
      await this.arrivals.wait(deadline, signal);
      if (signal.aborted) throw signal.reason;
      if (this.closed) return undefined;
      this.checkDropped();
    }
    if (this.unread) return this.take(Math.min(this.unread, STREAM_CHUNK_MAX));
    const cause = await this.endCause();
    if (cause) throw cause;
    return undefined;
  }

  /** Waits until the unread data matches `pattern`; consumes and returns it through the match (or just the match). */
  async until(pattern: string, seconds: number, signal: AbortSignal, what: 'through' | 'match'): Promise<Buffer> {
    this.checkOpen(pattern);
    const deadline = Date.now() + seconds * 1000;
    for (;;) {
      const found = findNeedle(this.buf, pattern);
      if (found) {
        const through = this.take(found.end);
        return what === 'match' ? Buffer.from(found.match) : through;
      }
      if (this.ended) throw (await this.endCause()) ?? new Error(`${this.label}: EOF: the stream ended without matching ${JSON.stringify(pattern)}; unread output:\n${this.buf.subarray(-2000).toString('utf8')}`);
      if (Date.now() >= deadline) {
        throw new Error(`${this.label}: timed out after ${seconds}s waiting for ${JSON.stringify(pattern)}; unread output:\n${this.buf.subarray(-2000).toString('utf8')}`);
      }
      await this.arrivals.wait(deadline, signal);
      if (signal.aborted) throw signal.reason;
      this.checkOpen(pattern);
    }
  }

  private checkOpen(pattern: string): void {
    if (this.closed) throw new Error(`${this.label}: the stream is closed, so ${JSON.stringify(pattern)} cannot match; read before closing it`);
    this.checkDropped();
  }

  /**
   * The frames unread now (what a read left comes first, as one frame) and
   * those that arrive within `seconds` or until the end (0: no wait). After
   * close: nothing (close dropped what was left).
   */
  async drain(seconds: number, signal: AbortSignal): Promise<Buffer[]> {
    if (this.closed) return [];
    this.checkDropped();
    const deadline = Date.now() + seconds * 1000;
    while (!this.ended && !this.closed && Date.now() < deadline && !signal.aborted) await this.arrivals.wait(deadline, signal);
    const frames = this.chunks.filter((c) => c.length > 0);
    this.chunks = [];
    this.unread = 0;
    return frames;
  }

  /** True once the stream has ended or been closed and nothing unread is left. */
  eof(): boolean {
    return (this.ended || this.closed) && this.unread === 0;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.detach();
    this.onClose?.();
    this.chunks = [];
    this.unread = 0;
    this.dropped = 0;
    this.arrivals.wake();
  }
}
