import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RecordDecoder, encodeRecord, ethernetFrame, macKey, macString } from './frame.js';
import type { SwitchPolicy } from './impairments.js';
import { Switch } from './switch.js';
import { MAC_A, MAC_B, MAC_C, switchLab, testPolicy, until } from './switch-lab.js';
import { BROADCAST, FakeNic } from './testing.js';

const [A, B, C] = [MAC_A, MAC_B, MAC_C];

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const policy = testPolicy;
const lab = (opts: { seed?: number } = {}) => switchLab(cleanups, opts);

describe('frames', () => {
  it('splits a stream into length-prefixed records, across chunk boundaries', () => {
    const d = new RecordDecoder();
    const r1 = encodeRecord(ethernetFrame(A, B, 0x800));
    const r2 = encodeRecord(ethernetFrame(B, A, 0x806, new Uint8Array(100)));
    const all = Buffer.concat([r1, r2]);
    expect(d.push(all.subarray(0, 3))).toEqual([]);
    expect(d.push(all.subarray(3, r1.length + 10)).map((r) => r.length)).toEqual([r1.length]);
    expect(d.push(all.subarray(r1.length + 10)).map((r) => Buffer.compare(r, r2))).toEqual([0]);
    expect(d.pendingBytes).toBe(0);
    expect(() => d.push(Buffer.from([0xff, 0xff, 0xff, 0xff]))).toThrow(/corrupt/);
  });

  it('MACs round-trip through table keys', () => {
    expect(macString(macKey(A))).toBe(A);
    expect(() => macKey('02:00:00:00:00')).toThrow(/not a MAC/);
  });
});

describe('switch', () => {
  it('floods broadcasts, forwards unicast to the one port that has the MAC, and counts both ends', async () => {
    const { sw, a, b, c } = await lab();
    a.send(BROADCAST, 1);
    await Promise.all([b.waitFor(1), c.waitFor(1)]);
    b.send(A, 2, 100);
    await a.waitFor(1);
    expect(a.tags()).toEqual([2]);
    expect(a.received[0].frame.length).toBe(100);
    // c got the broadcast only
    c.send(B, 3);
    await b.waitFor(2);
    expect(c.tags()).toEqual([1]);
    expect(sw.counters('a')).toEqual({ tx_packets: 1, tx_bytes: 60, rx_packets: 1, rx_bytes: 100, tx_dropped: 0, rx_dropped: 0 });
    expect(sw.counters('b')).toEqual({ tx_packets: 1, tx_bytes: 100, rx_packets: 2, rx_bytes: 120, tx_dropped: 0, rx_dropped: 0 });
  });

  it('learns a MAC it was not told from the source of a frame; floods an unknown destination', async () => {
    const { sw, a, b, c } = await lab();
    const X = '02:00:00:00:00:99';
    a.send(X, 1); // nobody has X yet: flooded
    await Promise.all([b.waitFor(1), c.waitFor(1)]);
    // c starts sending as X (a second address behind port c)
    const cx = await FakeNic.connect((sw as unknown as { ports: Map<string, { path: string }> }).ports.get('c')!.path, X);
    cleanups.push(() => cx.close());
    await until(() => sw.isConnected('c'));
    cx.send(A, 2);
    await a.waitFor(1);
    a.send(X, 3); // now learnt: only to c
    await cx.waitFor(1);
    expect(cx.tags()).toEqual([3]);
    expect(b.tags()).toEqual([1]);
  });

  it('partition(a, b) cuts both directions; {from, to} only one; others still talk', async () => {
    const { sw, a, b, c } = await lab();
    sw.setPolicy(policy({ partitions: [{ from: 'a', to: 'b' }, { from: 'b', to: 'a' }] }));
    a.send(B, 1);
    b.send(A, 2);
    a.send(C, 3);
    await c.waitFor(1);
    await until(() => sw.counters('a').tx_packets === 2 && sw.counters('b').tx_packets === 1);
    expect(a.received).toEqual([]);
    expect(b.received).toEqual([]);
    expect(sw.counters('a')).toMatchObject({ tx_dropped: 1, rx_dropped: 1 });
    expect(sw.counters('b')).toMatchObject({ tx_dropped: 1, rx_dropped: 1 });

    sw.setPolicy(policy({ partitions: [{ from: 'a', to: 'b' }] }));
    a.send(B, 4);
    b.send(A, 5);
    await a.waitFor(1);
    await until(() => sw.counters('a').tx_packets === 3);
    expect(a.tags()).toEqual([5]);
    expect(b.received).toEqual([]);
    // a broadcast from a reaches c but not b
    a.send(BROADCAST, 6);
    await c.waitFor(2);
    await until(() => sw.counters('a').tx_packets === 4);
    expect(b.received).toEqual([]);
    expect(sw.counters('b').rx_dropped).toBe(3);
  });

  it('cutAll (partition_all) cuts every pair, a port added after it too; a frame to itself is no pair', async () => {
    const { sw, a, b, c } = await lab();
    sw.setPolicy(policy({ cutAll: true }));
    const D = '02:00:00:00:00:0d';
    const d = await FakeNic.connect(await sw.addPort('d', D), D);
    cleanups.push(() => d.close());
    await until(() => sw.isConnected('d'));
    a.send(BROADCAST, 1);
    d.send(A, 2);
    await until(() => sw.counters('a').tx_dropped === 3 && sw.counters('d').tx_dropped === 1);
    expect([a.received, b.received, c.received, d.received]).toEqual([[], [], [], []]);
    sw.setPolicy(policy());
    d.send(A, 3);
    await a.waitFor(1);
    expect(a.tags()).toEqual([3]);
  });

  it('isolate cuts a port from all others both ways; detached ports carry nothing', async () => {
    const { sw, a, b, c } = await lab();
    sw.setPolicy(policy({ isolated: ['c'] }));
    c.send(BROADCAST, 1);
    a.send(C, 2);
    a.send(B, 3);
    await b.waitFor(1);
    await until(() => sw.counters('c').tx_packets === 1 && sw.counters('a').tx_packets === 2);
    expect(b.tags()).toEqual([3]);
    expect(c.received).toEqual([]);
    expect(a.received).toEqual([]);
    sw.setPolicy(policy({ detached: ['b'] }));
    a.send(B, 4);
    c.send(A, 5);
    await a.waitFor(1);
    expect(a.tags()).toEqual([5]);
    // b's earlier drop: c's broadcast while c was isolated
    await until(() => sw.counters('b').rx_dropped === 2);
    expect(b.tags()).toEqual([3]);
  });

  it('drop_rate drops the same frames for the same seed, none at 0, all at 1, and only in the given direction', async () => {
    const runOnce = async (seed: number) => {
      const { sw, a, b } = await lab({ seed });
      sw.setPolicy(policy({ seed, drop: [{ p: 0.5 }] }));
      for (let i = 0; i < 400; i++) a.send(B, i);
      await until(() => sw.counters('a').tx_packets === 400);
      const c = sw.counters('b');
      await b.waitFor(c.rx_packets);
      return { tags: b.tags(), dropped: c.rx_dropped };
    };
    const first = await runOnce(7);
    const second = await runOnce(7);
    const other = await runOnce(8);
    expect(second.tags).toEqual(first.tags);
    expect(other.tags).not.toEqual(first.tags);
    expect(first.tags.length + first.dropped).toBe(400);
    expect(first.dropped).toBeGreaterThan(100); // 0.5 of 400 with this seed: far from 0 and from 400
    expect(first.dropped).toBeLessThan(300);

    const { sw, a, b } = await lab();
    sw.setPolicy(policy({ drop: [{ from: 'a', to: 'b', p: 1 }] }));
    for (let i = 0; i < 20; i++) {
      a.send(B, i);
      b.send(A, i);
    }
    await a.waitFor(20);
    await until(() => sw.counters('a').tx_packets === 20);
    expect(b.received).toEqual([]);
    expect(sw.counters('a').tx_dropped).toBe(20);
  });

  it('latency delays every frame by at least the added ms, in order; a cut made meanwhile drops the waiting frames', async () => {
    const { sw, a, b } = await lab();
    sw.setPolicy(policy({ latency: [{ ms: 60 }] }));
    const sent: number[] = [];
    for (let i = 0; i < 5; i++) {
      sent.push(performance.now());
      a.send(B, i);
    }
    await b.waitFor(5);
    expect(b.tags()).toEqual([0, 1, 2, 3, 4]);
    b.received.forEach((r, i) => expect(r.at - sent[i]).toBeGreaterThanOrEqual(60));

    // rules add up: a→b 40 ms more than every frame's 60
    sw.setPolicy(policy({ latency: [{ from: 'a', to: 'b', ms: 40 }, { ms: 60 }] }));
    const t = performance.now();
    a.send(B, 9);
    await b.waitFor(6);
    expect(b.received[5].at - t).toBeGreaterThanOrEqual(100);

    a.send(B, 10);
    sw.setPolicy(policy({ latency: [{ ms: 60 }], partitions: [{ from: 'a', to: 'b' }] }));
    await until(() => sw.counters('b').rx_dropped === 1);
    expect(b.received.length).toBe(6);
  });

  it('latency {from=a, to=b} delays a → b only: b\'s frame, sent after a\'s, arrives first', async () => {
    const { sw, a, b } = await lab();
    sw.setPolicy(policy({ latency: [{ from: 'a', to: 'b', ms: 250 }] }));
    a.send(B, 1);
    b.send(A, 2);
    await a.waitFor(1);
    expect(b.received).toEqual([]); // a's frame still waits out its latency
    await b.waitFor(1);
    expect([a.tags(), b.tags()]).toEqual([[2], [1]]);
    expect(a.received[0].at).toBeLessThan(b.received[0].at);
  });

  it('a new connection to a port replaces the old one; a corrupt stream is cut', async () => {
    const { sw, a, b } = await lab();
    const path = (sw as unknown as { ports: Map<string, { path: string }> }).ports.get('b')!.path;
    const b2 = await FakeNic.connect(path, B);
    cleanups.push(() => b2.close());
    await new Promise<void>((r) => b.socket.once('close', () => r()));
    a.send(B, 1);
    await b2.waitFor(1);
    const closed = new Promise<void>((r) => a.socket.once('close', () => r()));
    a.sendRaw(Buffer.from([0x7f, 0xff, 0xff, 0xff]));
    await closed;
    expect(sw.isConnected('a')).toBe(false);
  });

  it('close() closes the connections and removes the socket directory; ports can be removed one by one', async () => {
    const root = mkdtempSync(join(tmpdir(), 'pvnet-unit-'));
    cleanups.push(() => rmSync(root, { recursive: true, force: true }));
    const sw = new Switch({ dir: join(root, 'sw') });
    const pa = await sw.addPort('a', A);
    const pb = await sw.addPort('b', B);
    await expect(sw.addPort('a', A)).rejects.toThrow(/exists already/);
    const nic = await FakeNic.connect(pa, A);
    const closed = new Promise<void>((r) => nic.socket.once('close', () => r()));
    await sw.removePort('b');
    expect(existsSync(pb)).toBe(false);
    expect(sw.portIds()).toEqual(['a']);
    await sw.close();
    await closed;
    expect(existsSync(join(root, 'sw'))).toBe(false);
    await expect(sw.addPort('c', C)).rejects.toThrow(/closed/);
  });

  it('rejects a malformed policy, naming the field', () => {
    const sw = new Switch({ dir: mkdtempSync(join(tmpdir(), 'pvnet-unit-')) });
    cleanups.push(() => sw.close());
    expect(() => sw.setPolicy(policy({ drop: [{ p: 2 }] }))).toThrow(/drop rate must be from 0 to 1/);
    expect(() => sw.setPolicy(policy({ latency: [{ ms: -1 }] }))).toThrow(/latency/);
    expect(() => sw.setPolicy({ ...policy(), detached: 'x' } as unknown as SwitchPolicy)).toThrow(/detached/);
  });
});
