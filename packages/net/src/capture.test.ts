/**
 * Captures and bandwidth limits of a real switch, with FakeNics on its real
 * sockets: the pcap stream's layout, what a bridge and a NIC capture see, the
 * window that bounds an unread capture, and pacing at a set rate.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CAPTURE_WINDOW, type CaptureSink } from './capture.js';
import { PCAP_GLOBAL_HEADER, pcapRecordStarts, readPcapRecord } from './pcap.js';
import { Switch } from './switch.js';
import { MAC_A, MAC_B, MAC_C, switchLab, testPolicy, until } from './switch-lab.js';
import { BROADCAST } from './testing.js';

const [A, B, C] = [MAC_A, MAC_B, MAC_C];

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const policy = testPolicy;
const lab = (opts: { seed?: number } = {}) => switchLab(cleanups, opts);

/** A sink that keeps every chunk. */
function collector() {
  const chunks: Buffer[] = [];
  let ended = false;
  const sink: CaptureSink = { chunk: (d) => chunks.push(d), end: () => (ended = true) };
  return { sink, bytes: () => Buffer.concat(chunks), chunks, ended: () => ended };
}

/** The frames of a whole savefile; throws if a record runs past the end. */
function frames(file: Buffer) {
  const body = file.subarray(PCAP_GLOBAL_HEADER);
  const out = pcapRecordStarts(body).map((at) => readPcapRecord(body, at));
  const end = out.length ? out[out.length - 1].next : 0;
  if (end !== body.length) throw new Error(`records end at ${end}, the file at ${body.length}`);
  return out.map((r) => r.frame);
}

const tag = (f: { data: Buffer }) => f.data.readUInt32BE(14);

describe('capture', () => {
  it('writes a libpcap savefile: header, then every frame entering the bridge with its time and length', async () => {
    const { sw, a, b } = await lab();
    const cap = collector();
    const before = Date.now() / 1000;
    sw.startCapture(1, undefined, cap.sink);
    a.send(B, 1);
    await b.waitFor(1);
    b.send(A, 2, 200);
    await a.waitFor(1);
    await until(() => frames(cap.bytes()).length === 2);
    const file = cap.bytes();
    expect([file.readUInt32LE(0), file.readUInt16LE(4), file.readUInt16LE(6), file.readUInt32LE(16), file.readUInt32LE(20)]).toEqual([0xa1b2c3d4, 2, 4, 65535, 1]);
    const got = frames(file);
    expect(got.map(tag)).toEqual([1, 2]);
    expect(got.map((f) => f.len)).toEqual([60, 200]);
    expect(got[0].time).toBeGreaterThanOrEqual(Math.floor(before));
    expect(got[1].time).toBeGreaterThanOrEqual(got[0].time);
    sw.stopCapture(1);
    expect(cap.ended()).toBe(true);
  });

  it('a NIC capture sees what its NIC sends and what is delivered to it, not the others\' unicast', async () => {
    const { sw, a, b, c } = await lab();
    const cap = collector();
    sw.startCapture(1, 'c', cap.sink);
    a.send(B, 1); // a → b: not c's
    await b.waitFor(1);
    a.send(BROADCAST, 2); // flooded, delivered to c
    await c.waitFor(1);
    c.send(A, 3);
    await a.waitFor(1);
    await until(() => frames(cap.bytes()).length >= 2);
    expect(frames(cap.bytes()).map(tag)).toEqual([2, 3]);
    expect(() => sw.startCapture(2, 'nope', collector().sink)).toThrow(/no port "nope"/);
  });

  it('an unread capture keeps at most its window: later frames are dropped whole and counted; the bytes stay a valid file', async () => {
    const { sw, a, b } = await lab();
    const cap = collector();
    sw.startCapture(1, 'b', cap.sink);
    const n = Math.ceil(CAPTURE_WINDOW / 1500) + 200;
    for (let i = 0; i < n; i++) a.send(B, i, 1500);
    await b.waitFor(n);
    await until(() => sw.ackCapture(1, 0) > 0 && frames(cap.bytes()).length + sw.ackCapture(1, 0) === n);
    expect(cap.bytes().length).toBeLessThanOrEqual(CAPTURE_WINDOW);
    expect(cap.chunks.every((c) => c.length <= 64 * 1024 + 1516)).toBe(true);
    // Once read (acknowledged), new frames are kept again.
    const dropped = sw.ackCapture(1, cap.bytes().length);
    a.send(B, 999_999, 1500);
    await until(() => frames(cap.bytes()).some((f) => tag(f) === 999_999));
    expect(sw.ackCapture(1, 0)).toBe(dropped);
  });

  it('ends when the switch closes', async () => {
    const { sw } = await lab();
    const cap = collector();
    sw.startCapture(1, undefined, cap.sink);
    await sw.close();
    expect(cap.ended()).toBe(true);
    expect(cap.bytes().length).toBe(PCAP_GLOBAL_HEADER);
  });
});

describe('bandwidth limit', () => {
  it('paces frames: N bytes at bps arrive no sooner than N*8/bps after the first is sent; in order', async () => {
    const { sw, a, b } = await lab();
    const bps = 80_000;
    sw.setPolicy(policy({ bandwidth: [{ bps }] }));
    const t0 = performance.now();
    for (let i = 0; i < 5; i++) a.send(B, i, 500);
    await b.waitFor(5);
    expect(b.received[4].at - t0).toBeGreaterThanOrEqual((5 * 500 * 8 * 1000) / bps);
    expect(b.tags()).toEqual([0, 1, 2, 3, 4]);
  });

  it('a directional limit paces that direction only: the other port\'s frame, sent last, arrives first', async () => {
    const { sw, a, b, c } = await lab();
    sw.setPolicy(policy({ bandwidth: [{ from: 'a', to: 'b', bps: 8_000 }] }));
    a.send(B, 1, 500); // 0.5 s at 8 kbit/s
    a.send(C, 2, 500);
    await Promise.all([b.waitFor(1), c.waitFor(1)]);
    expect(c.received[0].at).toBeLessThan(b.received[0].at);
  });

  it('refuses a rate that is not whole bits per second', () => {
    const root = mkdtempSync(join(tmpdir(), 'pvnet-cap-'));
    const sw = new Switch({ dir: join(root, 'sw') });
    cleanups.push(async () => {
      await sw.close();
      rmSync(root, { recursive: true, force: true });
    });
    expect(() => sw.setPolicy(policy({ bandwidth: [{ bps: 1.5 }] }))).toThrow(/bits per second/);
  });
});
