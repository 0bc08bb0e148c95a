/**
 * A stand-in for QEMU's end of a port: connects to the switch socket like
 * `-netdev stream,server=off` does, sends frames and collects what arrives.
 * For unit tests of the switch; the real tests use real VMs.
 */
import { connect, type Socket } from 'node:net';
import { RECORD_HEADER, RecordDecoder, encodeRecord, ethernetFrame, type MacString } from './frame.js';

export interface Received {
  frame: Buffer;
  /** performance.now() at arrival. */
  at: number;
}

export class FakeNic {
  readonly received: Received[] = [];
  private readonly decoder = new RecordDecoder();
  private waiters: { n: number; resolve: () => void }[] = [];

  private constructor(
    readonly mac: MacString,
    readonly socket: Socket,
  ) {
    socket.on('data', (chunk: Buffer) => {
      for (const r of this.decoder.push(chunk)) this.received.push({ frame: Buffer.from(r.subarray(RECORD_HEADER)), at: performance.now() });
      this.waiters = this.waiters.filter((w) => {
        if (this.received.length < w.n) return true;
        w.resolve();
        return false;
      });
    });
    socket.on('error', () => {});
  }

  static connect(path: string, mac: MacString): Promise<FakeNic> {
    return new Promise((resolve, reject) => {
      const s = connect(path);
      s.once('error', reject);
      s.once('connect', () => {
        s.off('error', reject);
        resolve(new FakeNic(mac, s));
      });
    });
  }

  /** Sends a frame from this NIC to `dst`; `tag` goes into the payload so receivers can tell frames apart. */
  send(dst: MacString, tag = 0, size = 60): Buffer {
    const payload = Buffer.alloc(Math.max(0, size - 14));
    payload.writeUInt32BE(tag >>> 0, 0);
    const frame = ethernetFrame(dst, this.mac, 0x88b5, payload);
    this.socket.write(encodeRecord(frame));
    return frame;
  }

  /** Raw bytes onto the stream (corrupt streams). */
  sendRaw(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  /** Tags of the frames received so far. */
  tags(): number[] {
    return this.received.map((r) => r.frame.readUInt32BE(14));
  }

  /** Resolves once `n` frames have arrived in total. */
  waitFor(n: number): Promise<void> {
    if (this.received.length >= n) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ n, resolve }));
  }

  close(): void {
    this.socket.destroy();
  }
}

export const BROADCAST: MacString = 'ff:ff:ff:ff:ff:ff';
