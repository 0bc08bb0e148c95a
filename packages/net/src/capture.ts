/**
 * One packet capture inside a switch: the frames of the whole bridge, or of
 * one port (sent by and delivered to its NIC), turned into a libpcap byte
 * stream for a reader in another thread. Records made within one turn of the
 * event loop leave as one chunk. Memory is bounded by a window: bytes sent
 * and not yet acknowledged by the reader (it acknowledges what the test has
 * read) stay under CAPTURE_WINDOW; a frame that would pass it is dropped
 * whole and counted, so the stream is always a valid savefile.
 */
import { performance } from 'node:perf_hooks';
import { pcapGlobalHeader, pcapRecordSize, writePcapRecord } from './pcap.js';

/** Bytes a capture may have sent and not had acknowledged (read by the test). */
export const CAPTURE_WINDOW = 8 * 1024 * 1024;
/** Records waiting in the switch are sent once they reach this many bytes (or at the end of the turn). */
const FLUSH_BYTES = 64 * 1024;

/** Where a capture's bytes go. `chunk` gets a buffer it may keep (and transfer). */
export interface CaptureSink {
  chunk(data: Buffer): void;
  end(): void;
}

/** Microseconds since the epoch, finer than Date.now(). */
const nowUs = () => Math.round((performance.timeOrigin + performance.now()) * 1000);

export class Capturer {
  private pending: { frame: Uint8Array; timeUs: number }[] = [];
  private pendingBytes = 0;
  private unacked = 0;
  private scheduled = false;
  private ended = false;
  /** Frames lost because the reader was too far behind. */
  dropped = 0;

  constructor(
    /** The port whose traffic it records; undefined: every frame entering the switch. */
    readonly port: string | undefined,
    private readonly sink: CaptureSink,
  ) {
    const header = pcapGlobalHeader();
    this.unacked = header.length;
    sink.chunk(header);
  }

  /** A frame (without the stream's length prefix) seen now. */
  add(frame: Uint8Array): void {
    if (this.ended) return;
    const size = pcapRecordSize(frame.length);
    if (this.unacked + this.pendingBytes + size > CAPTURE_WINDOW) {
      this.dropped++;
      return;
    }
    this.pending.push({ frame, timeUs: nowUs() });
    this.pendingBytes += size;
    if (this.pendingBytes >= FLUSH_BYTES) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** The reader has consumed `bytes`. */
  ack(bytes: number): void {
    this.unacked = Math.max(0, this.unacked - bytes);
  }

  /** Sends what is pending and ends the stream. Idempotent. */
  end(): void {
    if (this.ended) return;
    this.flush();
    this.ended = true;
    this.sink.end();
  }

  private flush(): void {
    this.scheduled = false;
    if (this.pendingBytes === 0 || this.ended) return;
    // Its own memory (not Node's shared pool), so the network thread can transfer it without a copy.
    const out = Buffer.allocUnsafeSlow(this.pendingBytes);
    let at = 0;
    for (const p of this.pending) at = writePcapRecord(out, at, p.frame, p.timeUs);
    this.unacked += this.pendingBytes;
    this.pending = [];
    this.pendingBytes = 0;
    this.sink.chunk(out);
  }
}
