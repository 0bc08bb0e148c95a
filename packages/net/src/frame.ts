/**
 * Ethernet frames as QEMU's `stream` (and `socket`) netdevs carry them: each
 * frame is preceded by its length as a 32-bit big-endian integer, with no
 * virtio-net header. A record (length + frame) read from one port is written
 * unchanged to the ports it goes to.
 */

/** Bytes of the length prefix. */
export const RECORD_HEADER = 4;
/** Largest frame accepted from a port (QEMU's NET_BUFSIZE is 4096 + 65536). A longer length is a corrupt stream. */
export const MAX_FRAME = 4096 + 65536;
/** Destination + source MAC + EtherType. */
export const ETHERNET_HEADER = 14;

/** A MAC as written in QEMU options and by `ip link`: `02:1a:2b:3c:4d:5e`, lower case. */
export type MacString = string;

const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

export function isMac(mac: string): boolean {
  return MAC_RE.test(mac);
}

/** The 48-bit MAC as a number (exact: below 2^53), the switch's table key. */
export function macKey(mac: MacString): number {
  if (!isMac(mac)) throw new Error(`not a MAC address (lower-case xx:xx:xx:xx:xx:xx): ${JSON.stringify(mac)}`);
  return parseInt(mac.replaceAll(':', ''), 16);
}

export function macString(key: number): MacString {
  return key.toString(16).padStart(12, '0').replace(/(..)(?!$)/g, '$1:');
}

/** Group bit of the first octet: broadcast and multicast destinations. */
export function isGroupKey(key: number): boolean {
  return Math.floor(key / 2 ** 40) % 2 === 1;
}

/** Destination MAC of a record (header included) as a table key. */
export function recordDestination(record: Buffer): number {
  return record.readUIntBE(RECORD_HEADER, 6);
}

export function recordSource(record: Buffer): number {
  return record.readUIntBE(RECORD_HEADER + 6, 6);
}

/** A record for `frame` (tests and tools that inject frames). */
export function encodeRecord(frame: Uint8Array): Buffer {
  const rec = Buffer.allocUnsafe(RECORD_HEADER + frame.length);
  rec.writeUInt32BE(frame.length, 0);
  rec.set(frame, RECORD_HEADER);
  return rec;
}

/** A minimal Ethernet frame: `dst`, `src`, EtherType, payload (tests). */
export function ethernetFrame(dst: MacString, src: MacString, etherType: number, payload: Uint8Array = new Uint8Array(46)): Buffer {
  const frame = Buffer.alloc(ETHERNET_HEADER + payload.length);
  frame.writeUIntBE(macKey(dst), 0, 6);
  frame.writeUIntBE(macKey(src), 6, 6);
  frame.writeUInt16BE(etherType, 12);
  frame.set(payload, ETHERNET_HEADER);
  return frame;
}

/**
 * Splits a byte stream into records. Each record returned is a view of the
 * chunk it came in (Node hands every `data` event a fresh buffer), so it can be
 * kept and written elsewhere without a copy.
 */
export class RecordDecoder {
  private pending: Buffer | undefined;

  /** The complete records in `chunk` (plus what was pending). Throws on a length beyond MAX_FRAME. */
  push(chunk: Buffer): Buffer[] {
    let buf = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = undefined;
    const out: Buffer[] = [];
    let off = 0;
    while (buf.length - off >= RECORD_HEADER) {
      const len = buf.readUInt32BE(off);
      if (len > MAX_FRAME) throw new Error(`frame length ${len} exceeds ${MAX_FRAME} bytes: the stream is corrupt`);
      if (buf.length - off < RECORD_HEADER + len) break;
      out.push(buf.subarray(off, off + RECORD_HEADER + len));
      off += RECORD_HEADER + len;
    }
    if (off < buf.length) {
      buf = buf.subarray(off);
      // Keep only the tail, not the whole chunk it sits in.
      this.pending = buf.length < 4096 ? Buffer.from(buf) : buf;
    }
    return out;
  }

  /** Bytes of an incomplete record held back. */
  get pendingBytes(): number {
    return this.pending?.length ?? 0;
  }
}
