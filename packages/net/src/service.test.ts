// The network thread: needs the built worker script (npm test builds first).
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetService, RemoteBackend } from './service.js';
import { BROADCAST, FakeNic } from './testing.js';

const A = '02:00:00:00:00:0a';
const B = '02:00:00:00:00:0b';
const dist = (f: string) => fileURLToPath(new URL(`../dist/${f}`, import.meta.url));

let svc: NetService;
beforeAll(async () => {
  if (!existsSync(dist('service-worker.js'))) throw new Error('packages/net/dist is missing: run `npm run build` first (npm test does)');
  svc = await NetService.start();
});
afterAll(async () => {
  const dir = svc.socketDir;
  await svc.stop();
  expect(existsSync(dir)).toBe(false);
});

async function until(pred: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await pred())) await new Promise((r) => setTimeout(r, 5));
}

/** Sends warm-up broadcasts from `from` until one reaches `to`; then both start with nothing received. */
async function warmUp(from: FakeNic, to: FakeNic): Promise<void> {
  while (to.received.length === 0) {
    from.send(BROADCAST, 0);
    await Promise.race([to.waitFor(1), new Promise((r) => setTimeout(r, 100))]);
  }
  from.received.length = 0;
  to.received.length = 0;
}

describe('network thread', () => {
  it('runs switches for a backend in another thread: frames, policy and counters', async () => {
    const backend = svc.backend();
    const sw = await backend.createSwitch({ name: 'lan', seed: 3 });
    const a = await FakeNic.connect(await sw.addPort('a', A), A);
    const b = await FakeNic.connect(await sw.addPort('b', B), B);
    // The network thread takes a NIC's connection asynchronously: a frame sent before it
    // has is lost (as on a cable plugged in late). Both ways must carry before counting.
    await warmUp(a, b);
    await warmUp(b, a);
    const base = { a: await sw.counters('a'), b: await sw.counters('b') };
    a.send(BROADCAST, 1);
    await b.waitFor(1);
    await sw.setPolicy({ partitions: [{ from: 'b', to: 'a' }], isolated: [], latency: [], drop: [], detached: [], seed: 3 });
    b.send(A, 2);
    await until(async () => (await sw.counters('a')).rx_dropped === base.a.rx_dropped + 1);
    expect(a.received).toEqual([]);
    const cb = await sw.counters('b');
    expect({ rx_packets: cb.rx_packets - base.b.rx_packets, rx_bytes: cb.rx_bytes - base.b.rx_bytes, tx_packets: cb.tx_packets - base.b.tx_packets, tx_dropped: cb.tx_dropped - base.b.tx_dropped })
      .toEqual({ rx_packets: 1, rx_bytes: 60, tx_packets: 1, tx_dropped: 1 });
    await expect(sw.counters('nobody')).rejects.toThrow(/no port "nobody"/);
    expect((await svc.stats()).ports).toBeGreaterThanOrEqual(2);
    const closed = new Promise<void>((r) => a.socket.once('close', () => r()));
    await backend.close();
    await closed;
    b.close();
    await expect(sw.counters('a')).rejects.toThrow(/closed|gone/);
  });

  it('keeps forwarding while the thread that controls the lab is blocked', async () => {
    const backend = svc.backend();
    const sw = await backend.createSwitch({ name: 'busy' });
    const pa = await sw.addPort('a', A);
    const pb = await sw.addPort('b', B);
    // The NICs live in another thread; this thread (the lab's owner) then blocks
    // until they report 50 round trips, which only the network thread can carry.
    const done = new Int32Array(new SharedArrayBuffer(4));
    const w = new Worker(
      `const { workerData: d } = require('node:worker_threads');
       (async () => {
         const { FakeNic } = await import(d.testing);
         const a = await FakeNic.connect(d.pa, d.A), b = await FakeNic.connect(d.pb, d.B);
         b.socket.on('data', () => { while (b.received.length > b.echoed) { b.echoed++; b.send(d.A, b.echoed); } });
         b.echoed = 0;
         for (let i = 1; i <= 50; i++) { a.send(d.B, i); await a.waitFor(i); }
         Atomics.store(d.done, 0, 1); Atomics.notify(d.done, 0);
         a.close(); b.close();
       })();`,
      { eval: true, workerData: { testing: new URL('../dist/testing.js', import.meta.url).href, pa, pb, A, B, done } },
    );
    const woke = Atomics.wait(done, 0, 0, 30_000); // blocks this thread's event loop
    expect(woke).toBe('ok');
    expect(await sw.counters('a')).toMatchObject({ tx_packets: 50, rx_packets: 50 });
    await w.terminate();
    await backend.close();
  });

  it('closes the switches of a thread that ends without closing them', async () => {
    const before = await svc.stats();
    const port = svc.connect();
    const w = new Worker(
      `const { workerData: d, parentPort } = require('node:worker_threads');
       (async () => {
         const { RemoteBackend } = await import(d.service);
         const b = new RemoteBackend(d.port);
         const sw = await b.createSwitch({ name: 'orphan' });
         parentPort.postMessage(await sw.addPort('a'));
         setInterval(() => {}, 1000); // stays busy until terminated
       })();`,
      { eval: true, workerData: { service: new URL('../dist/service.js', import.meta.url).href, port }, transferList: [port] },
    );
    const path = await new Promise<string>((r) => w.once('message', r));
    expect(existsSync(path)).toBe(true);
    expect((await svc.stats()).switches).toBe(before.switches + 1);
    await w.terminate();
    await until(async () => (await svc.stats()).switches === before.switches);
    expect(existsSync(path)).toBe(false);
    expect(readdirSync(svc.socketDir).filter((f) => f !== 'owner.json')).toEqual([]);
  });

  it('a backend whose thread is gone fails its calls instead of hanging', async () => {
    const other = await NetService.start();
    const backend: RemoteBackend = other.backend();
    const sw = await backend.createSwitch({ name: 'x' });
    await other.stop();
    await expect(sw.addPort('a')).rejects.toThrow(/network thread is gone|closed/);
  });
});
