/**
 * The libpcap savefile format (what `tcpdump -w` writes and `tcpdump -r`
 * reads): a 24-byte global header, then per frame a 16-byte record header
 * (seconds, microseconds, bytes kept, bytes on the wire) and the bytes kept.
 * Little-endian, microsecond timestamps, link type Ethernet.
 */

export const PCAP_GLOBAL_HEADER = 24;
export const PCAP_RECORD_HEADER = 16;
/** Bytes of a frame a record keeps at most. */
export const PCAP_SNAPLEN = 65535;
const MAGIC_USEC = 0xa1b2c3d4;
const LINKTYPE_ETHERNET = 1;

export function pcapGlobalHeader(): Buffer {
  const h = Buffer.alloc(PCAP_GLOBAL_HEADER);
  h.writeUInt32LE(MAGIC_USEC, 0);
  h.writeUInt16LE(2, 4); // version 2.4
  h.writeUInt16LE(4, 6);
  // thiszone and sigfigs stay 0
  h.writeUInt32LE(PCAP_SNAPLEN, 16);
  h.writeUInt32LE(LINKTYPE_ETHERNET, 20);
  return h;
}

/** Bytes of the record of a frame of `frameBytes`. */
export const pcapRecordSize = (frameBytes: number) => PCAP_RECORD_HEADER + Math.min(frameBytes, PCAP_SNAPLEN);

/** Writes the record of `frame` seen at `timeUs` (µs since the epoch) into `out` at `at`; returns the offset after it. */
export function writePcapRecord(out: Buffer, at: number, frame: Uint8Array, timeUs: number): number {
  const kept = Math.min(frame.length, PCAP_SNAPLEN);
  out.writeUInt32LE(Math.floor(timeUs / 1e6), at);
  out.writeUInt32LE(Math.floor(timeUs % 1e6), at + 4);
  out.writeUInt32LE(kept, at + 8);
  out.writeUInt32LE(frame.length, at + 12);
  out.set(kept === frame.length ? frame : frame.subarray(0, kept), at + PCAP_RECORD_HEADER);
  return at + PCAP_RECORD_HEADER + kept;
}

/** One record read back: when, the bytes kept, and the frame's length on the wire. */
export interface PcapFrame {
  /** Seconds since the epoch, with microseconds. */
  time: number;
  data: Buffer;
  len: number;
}

/** The record at `at` in `buf` (which must hold it whole) and the offset after it. */
export function readPcapRecord(buf: Buffer, at: number): { frame: PcapFrame; next: number } {
  const kept = buf.readUInt32LE(at + 8);
  const start = at + PCAP_RECORD_HEADER;
  const frame = { time: buf.readUInt32LE(at) + buf.readUInt32LE(at + 4) / 1e6, data: Buffer.from(buf.subarray(start, start + kept)), len: buf.readUInt32LE(at + 12) };
  return { frame, next: start + kept };
}

/** Offsets of the records that start in `buf` (whole records, back to back from `at`). */
export function pcapRecordStarts(buf: Buffer, at = 0): number[] {
  const starts: number[] = [];
  while (at + PCAP_RECORD_HEADER <= buf.length) {
    starts.push(at);
    at += PCAP_RECORD_HEADER + buf.readUInt32LE(at + 8);
  }
  return starts;
}
