/**
 * A packet capture as the test reads it: the libpcap bytes a switch sends
 * (the global header, then chunks of whole records), read as a byte stream
 * (next, read_until, drain) or as parsed frames. What the test reads is
 * acknowledged to the switch, which keeps at most its window unread
 * (@provium/net capture.ts). The most recent records are also kept, bounded,
 * for a failed test's artifacts. Free of Lua: the binding is api/capture.ts.
 */
import type { CaptureControl, CaptureSink } from '@provium/net';
// The format alone: the worker loads the rest of @provium/net with its first bridge.
import { pcapRecordStarts, readPcapRecord, type PcapFrame } from '@provium/net/pcap';
import { Wakeups } from './wakeups.js';

/** The most one read returns (and the size of drain's chunks). */
export const CAPTURE_CHUNK_MAX = 64 * 1024;
/** Bytes of the latest records kept for the pcap artifact of a failed test; older ones go first. */
export const CAPTURE_KEEP_MAX = 16 * 1024 * 1024;

export class PacketCapture {
  private chunks: Buffer[] = [];
  private unread = 0;
  /** Stream offsets (from the first byte of the file) of the first unread byte and of the end of what arrived. */
  private readPos = 0;
  private received = 0;
  /** Stream offsets where unread records start (the header's end is one), ascending. */
  private starts: number[] = [];
  private header: Buffer | undefined;
  private kept: Buffer[] = [];
  private keptBytes = 0;
  /** Records were dropped from `kept` (the artifact holds the latest only). */
  keptTrimmed = false;
  private ended = false;
  private closed = false;
  private readonly arrivals = new Wakeups();
  private control: CaptureControl | undefined;
  /** Frames the switch dropped, as of its last answer. */
  private droppedSeen = 0;
  /** Called once when it is closed (by the author or at the end of its scope). */
  onClose: (() => void) | undefined;

  constructor(
    /** What it captures, for messages: `bridge "lan"`, `VM "a" on bridge "lan"`. */
    readonly label: string,
    /** The same for its artifact's file name: `lan`, `a-on-lan`. */
    readonly fileName: string,
  ) {}

  /** Starts it with `open` (the network's capture call, given the sink). */
  async start(open: (sink: CaptureSink) => Promise<CaptureControl>): Promise<this> {
    this.control = await open(this.sink);
    return this;
  }

  private readonly sink: CaptureSink = {
    chunk: (data) => {
      if (this.closed) return;
      if (!this.header) {
        this.header = data; // the first chunk is the global header alone
        this.starts.push(data.length);
      } else {
        for (const at of pcapRecordStarts(data)) this.starts.push(this.received + at);
        this.keep(data);
      }
      this.chunks.push(data);
      this.unread += data.length;
      this.received += data.length;
      this.arrivals.wake();
    },
    end: () => {
      this.ended = true;
      this.arrivals.wake();
    },
  };

  private keep(records: Buffer): void {
    this.kept.push(records);
    this.keptBytes += records.length;
    while (this.keptBytes > CAPTURE_KEEP_MAX && this.kept.length > 1) {
      this.keptBytes -= this.kept.shift()!.length;
      this.keptTrimmed = true;
    }
  }

  /** A savefile of the header and the latest records (CAPTURE_KEEP_MAX), whatever was read. */
  pcap(): Buffer {
    return Buffer.concat([this.header ?? Buffer.alloc(0), ...this.kept]);
  }

  private get buf(): Buffer {
    if (this.chunks.length !== 1) this.chunks = [Buffer.concat(this.chunks, this.unread)];
    return this.chunks[0] ?? Buffer.alloc(0);
  }

  /** Consumes `n` unread bytes, tells the switch, and returns them. */
  private take(n: number): Buffer {
    const all = this.buf;
    this.chunks = n < all.length ? [all.subarray(n)] : [];
    this.unread -= n;
    this.readPos += n;
    let i = 0;
    while (i < this.starts.length && this.starts[i] < this.readPos) i++;
    if (i > 0) this.starts.splice(0, i);
    void this.control?.ack(n).then((d) => (this.droppedSeen = d), () => {});
    return Buffer.from(all.subarray(0, n));
  }

  /** Waits until `ready()` or the end, the deadline or an abort (which throws). */
  private async waitUntil(ready: () => boolean, seconds: number, signal: AbortSignal): Promise<void> {
    const deadline = Date.now() + seconds * 1000;
    while (!ready() && !this.ended && !this.closed && Date.now() < deadline) {
      await this.arrivals.wait(deadline, signal);
      if (signal.aborted) throw signal.reason;
    }
  }

  /** The next chunk (at most CAPTURE_CHUNK_MAX); undefined on timeout, at the end or once closed. */
  async next(seconds: number, signal: AbortSignal): Promise<Buffer | undefined> {
    await this.waitUntil(() => this.unread > 0, seconds, signal);
    return this.unread > 0 && !this.closed ? this.take(Math.min(this.unread, CAPTURE_CHUNK_MAX)) : undefined;
  }

  /** Consumes through the first literal `needle`; returns those bytes, or the needle (`what`). */
  async until(needle: Uint8Array, seconds: number, signal: AbortSignal, what: 'through' | 'match'): Promise<Buffer> {
    if (needle.length === 0) throw new Error(`capture of ${this.label}: the needle is empty; give the bytes to wait for`);
    let at = -1;
    await this.waitUntil(() => (at = this.buf.indexOf(needle)) >= 0, seconds, signal);
    if (this.closed) throw new Error(`capture of ${this.label}: the capture is closed`);
    if (at < 0) at = this.buf.indexOf(needle);
    if (at >= 0) {
      const through = this.take(at + needle.length);
      return what === 'match' ? Buffer.from(needle) : through;
    }
    if (this.ended) throw new Error(`capture of ${this.label}: EOF (the capture ended) before ${JSON.stringify(Buffer.from(needle).toString('latin1'))} appeared`);
    throw new Error(`capture of ${this.label}: timed out after ${seconds}s waiting for ${JSON.stringify(Buffer.from(needle).toString('latin1'))}`);
  }

  /** Every unread byte now and until `seconds` pass or the end, in chunks of at most CAPTURE_CHUNK_MAX. */
  async drain(seconds: number, signal: AbortSignal): Promise<Buffer[]> {
    await this.waitUntil(() => false, seconds, signal);
    if (this.closed) return [];
    const all = this.take(this.unread);
    const out: Buffer[] = [];
    for (let at = 0; at < all.length; at += CAPTURE_CHUNK_MAX) out.push(all.subarray(at, at + CAPTURE_CHUNK_MAX));
    return out;
  }

  /** The whole unread frames, parsed, now and until `seconds` pass or the end; a frame partly read is skipped. */
  async frames(seconds: number, signal: AbortSignal): Promise<PcapFrame[]> {
    await this.waitUntil(() => false, seconds, signal);
    if (this.closed || this.unread === 0) return [];
    // Chunks hold whole records, so the unread bytes end at a record's end; before the first start: the header or a partly read record.
    const skip = (this.starts[0] ?? this.received) - this.readPos;
    const body = this.take(this.unread).subarray(skip);
    return pcapRecordStarts(body).map((at) => readPcapRecord(body, at).frame);
  }

  /** Frames the switch dropped because the capture was not read (its answer to this call). */
  async dropped(): Promise<number> {
    if (this.control && !this.closed) this.droppedSeen = await this.control.ack(0);
    return this.droppedSeen;
  }

  eof(): boolean {
    return (this.ended || this.closed) && this.unread === 0;
  }

  /** Stops the capture and drops what is unread. Idempotent; never raises. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.chunks = [];
    this.unread = 0;
    this.starts = [];
    void this.control?.stop().catch(() => {});
    this.onClose?.();
    this.arrivals.wake();
  }
}
