/**
 * A PacketCapture read the ways the sheet's §9 and §13 allow, fed by a real
 * switch (LocalBackend) with FakeNics on its sockets: leftovers come first,
 * frames() skips a frame partly read, chunks stay within 64 KiB, and the
 * close and end rules.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FakeNic, LocalBackend, PCAP_GLOBAL_HEADER, pcapRecordStarts } from '@provium/net';
import { CAPTURE_CHUNK_MAX, PacketCapture } from './capture.js';

const A = '02:00:00:00:00:0a';
const B = '02:00:00:00:00:0b';
const signal = new AbortController().signal;
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup() {
  const backend = new LocalBackend();
  const sw = await backend.createSwitch({ name: 'lan' });
  const a = await FakeNic.connect(await sw.addPort('a', A), A);
  const b = await FakeNic.connect(await sw.addPort('b', B), B);
  const real = backend.switch(sw.id)!;
  while (!(real.isConnected('a') && real.isConnected('b'))) await new Promise((r) => setTimeout(r, 2));
  cleanups.push(async () => {
    a.close();
    b.close();
    await backend.close();
  });
  const cap = await new PacketCapture('bridge "lan"', 'lan').start((sink) => sw.capture(undefined, sink));
  return { sw, a, b, cap };
}

/** A frame's payload marker: the tag FakeNic writes, as bytes. */
const tagBytes = (tag: number) => {
  const t = Buffer.alloc(4);
  t.writeUInt32BE(tag);
  return t;
};

describe('PacketCapture', () => {
  it('reads the header first; read_until keeps what follows the match for the next read; next is nil on timeout', async () => {
    const { a, b, cap } = await setup();
    expect((await cap.next(1, signal))?.length).toBe(PCAP_GLOBAL_HEADER);
    expect(await cap.next(0.01, signal)).toBeUndefined();
    a.send(B, 0x11223344, 100);
    await b.waitFor(1);
    const through = await cap.until(tagBytes(0x11223344), 5, signal, 'through');
    expect(through.subarray(-4)).toEqual(tagBytes(0x11223344));
    const rest = await cap.next(1, signal);
    expect(through.length + rest!.length).toBe(16 + 100); // one record: header + frame
    await expect(cap.until(Buffer.from('never'), 0.05, signal, 'through')).rejects.toThrow(/timed out/);
  });

  it('frames() returns whole frames with times and lengths, skipping one partly read and the file header', async () => {
    const { a, b, cap } = await setup();
    for (const t of [1, 2, 3]) a.send(B, t, 80);
    await b.waitFor(3);
    await cap.until(tagBytes(1), 5, signal, 'through'); // into frame 1
    const frames = await cap.frames(0.2, signal);
    expect(frames.map((f) => f.data.readUInt32BE(14))).toEqual([2, 3]);
    expect(frames.map((f) => f.len)).toEqual([80, 80]);
    expect(frames[0].time).toBeGreaterThan(Date.now() / 1000 - 60);
    expect(await cap.frames(0.01, signal)).toEqual([]);
  });

  it('drain returns chunks of at most 64 KiB that join into the whole stream; pcap() keeps every frame, read or not', async () => {
    const { a, b, cap } = await setup();
    for (let i = 0; i < 100; i++) a.send(B, i, 1500);
    await b.waitFor(100);
    const chunks = await cap.drain(0.3, signal);
    expect(chunks.every((c) => c.length <= CAPTURE_CHUNK_MAX)).toBe(true);
    const all = Buffer.concat(chunks);
    expect(all.length).toBe(PCAP_GLOBAL_HEADER + 100 * (16 + 1500));
    expect(pcapRecordStarts(all.subarray(PCAP_GLOBAL_HEADER))).toHaveLength(100);
    expect(cap.pcap().equals(all)).toBe(true);
    expect(await cap.dropped()).toBe(0);
  });

  it('close drops what is unread: eof, next is nil, drain is empty, read_until raises "closed"', async () => {
    const { a, b, cap } = await setup();
    a.send(B, 1);
    await b.waitFor(1);
    expect(cap.eof()).toBe(false);
    cap.close();
    cap.close();
    expect(cap.eof()).toBe(true);
    expect(await cap.next(0.01, signal)).toBeUndefined();
    expect(await cap.drain(0.01, signal)).toEqual([]);
    await expect(cap.until(Buffer.from('x'), 0.01, signal, 'through')).rejects.toThrow(/closed/);
  });

  it('ends with its bridge: what is unread is still read, then eof; read_until raises "EOF"', async () => {
    const { sw, cap } = await setup();
    await sw.close();
    expect(cap.eof()).toBe(false);
    expect((await cap.next(1, signal))?.length).toBe(PCAP_GLOBAL_HEADER);
    expect(cap.eof()).toBe(true);
    await expect(cap.until(Buffer.from('x'), 1, signal, 'through')).rejects.toThrow(/EOF/);
  });
});
