// Network benchmark, in one process on the real switch (two FakeNics on its unix
// sockets, no VMs): what a packet capture costs the switch's forwarding, as the
// ratio of frames per second with a bridge capture being read to the same switch
// without one; and how close a bandwidth limit's pacing comes to its rate (bytes
// delivered × 8 / time over bps: at most 1, since a frame never arrives early).
// Prints medians of BENCH_RUNS runs.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FakeNic, LocalBackend, emptyImpairments } from '../../packages/net/dist/index.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const FRAMES = 20_000;
const A = '02:00:00:00:00:0a';
const B = '02:00:00:00:00:0b';
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function lan() {
  const root = mkdtempSync(path.join(tmpdir(), 'provium-bench-net-'));
  const backend = new LocalBackend({ root });
  const sw = await backend.createSwitch({ name: 'lan' });
  const a = await FakeNic.connect(await sw.addPort('a', A), A);
  const b = await FakeNic.connect(await sw.addPort('b', B), B);
  const real = backend.switch(sw.id);
  while (!(real.isConnected('a') && real.isConnected('b'))) await new Promise((r) => setTimeout(r, 2));
  const close = async () => {
    a.close();
    b.close();
    await backend.close();
    rmSync(root, { recursive: true, force: true });
  };
  return { sw, a, b, close };
}

/** Frames per second from a to b (1500-byte frames, sent in batches of 100), optionally through a capture read as it comes. */
async function forward(withCapture) {
  const { sw, a, b, close } = await lan();
  let captured = 0;
  if (withCapture) {
    let control; // the header chunk arrives inside capture(), before it returns: acked with the rest
    control = await sw.capture(undefined, {
      chunk: (d) => {
        captured += d.length;
        void control?.ack(d.length); // read at once, as a test that drains would
      },
      end: () => {},
    });
  }
  const t0 = performance.now();
  for (let i = 0; i < FRAMES; i += 100) {
    for (let j = 0; j < 100; j++) a.send(B, i + j, 1500);
    await b.waitFor(i + 100);
  }
  const fps = FRAMES / ((performance.now() - t0) / 1000);
  await close();
  if (withCapture && captured < FRAMES * 1516) throw new Error(`the capture saw ${captured} bytes, fewer than the ${FRAMES} frames`);
  return fps;
}

/** Achieved rate over the limit: 140 frames of 1500 bytes at 4 Mbit/s, timed to the last arrival. */
async function pacing() {
  const { sw, a, b, close } = await lan();
  const bps = 4_000_000;
  await sw.setPolicy({ ...emptyImpairments(), bandwidth: [{ bps }], detached: [], seed: 1 });
  const n = 140;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) a.send(B, i, 1500);
  await b.waitFor(n);
  const seconds = (b.received[n - 1].at - t0) / 1000;
  await close();
  return (n * 1500 * 8) / seconds / bps;
}

const plain = [];
const captured = [];
const paced = [];
for (let r = 0; r < RUNS; r++) {
  plain.push(await forward(false));
  captured.push(await forward(true));
  paced.push(await pacing());
}
const p = median(plain);
const c = median(captured);
console.log(`switch forwarding, 1500-byte frames: ${Math.round(p)} frames/s without a capture, ${Math.round(c)} with a bridge capture read as it comes`);
console.log(`ratio with/without capture: ${(c / p).toFixed(2)}`);
console.log(`bandwidth limit 4 Mbit/s: achieved/limit ${median(paced).toFixed(3)} (1 = exact; never above)`);
