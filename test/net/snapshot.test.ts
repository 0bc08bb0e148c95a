/**
 * A lab network through a snapshot: a (NIC from launch) and b (NIC
 * hot-plugged after boot) on `lan` with a → b partitioned are snapshotted,
 * then restored twice at once. Each copy runs on its own switch with the same
 * MACs and addresses, keeps the partition, and changes to one copy never
 * reach the other. Two boots and four restores.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LabNetwork, type NetworkState } from '../../packages/net/src/index.js';
import { takeSnapshot } from '../../packages/qemu/src/index.js';
import { bootVm, inEchos, ok, ping, restoreVm, startSuite, type Suite, type TestVm } from './helpers.js';

let suite: Suite;
let snapDir: string;
let state: NetworkState;
const copies: { net: LabNetwork; a: TestVm; b: TestVm }[] = [];

beforeAll(async () => {
  suite = await startSuite();
  snapDir = mkdtempSync(join(tmpdir(), 'pvnet-snap-'));
  const net = new LabNetwork(suite.backend);
  await net.addBridge('lan');
  await net.attach('lan', 'a');
  const [a, b] = await Promise.all([bootVm(suite, net, 'a'), bootVm(suite, net, 'b')]);
  await net.attach('lan', 'b'); // hot-plug, after boot
  expect((await ping(a, 'b.lan', { count: 1 })).received).toBe(1);
  await net.partition('lan', { from: 'a', to: 'b' });
  await takeSnapshot(a.qemu, join(snapDir, 'a.snap'), {});
  await takeSnapshot(b.qemu, join(snapDir, 'b.snap'), {});
  state = JSON.parse(JSON.stringify(net.state())) as NetworkState; // as lab.json keeps it
  await Promise.all([a.qemu.kill(), b.qemu.kill()]);
  await net.close();
  for (const n of [1, 2]) {
    const copy = await LabNetwork.restore(state, suite.backend);
    const [ca, cb] = await Promise.all([
      restoreVm(suite, copy, 'a', join(snapDir, 'a.snap'), `a${n}`),
      restoreVm(suite, copy, 'b', join(snapDir, 'b.snap'), `b${n}`),
    ]);
    copies.push({ net: copy, a: ca, b: cb });
  }
}, 600_000);

afterAll(async () => {
  for (const c of copies) await c.net.close();
  await suite?.dispose();
  if (snapDir) rmSync(snapDir, { recursive: true, force: true });
});

describe('a lab network restored from a snapshot, twice', () => {
  it('lab.json records the bridge, both NICs (the hot-plugged one too) and the partition', () => {
    expect(state.bridges.map((b) => [b.name, b.impairments.partitions])).toEqual([['lan', [{ from: 'a', to: 'b' }]]]);
    expect(state.nics.map((n) => [n.vm, n.slot, n.attached, n.configured])).toEqual([['a', 0x10, true, true], ['b', 0x10, true, true]]);
  });

  it('the partition still holds in each copy: a → b is cut, b → a arrives', async () => {
    for (const { a, b } of copies) {
      const bSeen = await inEchos(b);
      expect((await ping(a, 'b.lan', { count: 2, wait: 1 })).received).toBe(0);
      expect(await inEchos(b)).toBe(bSeen);
      const aSeen = await inEchos(a);
      await ping(b, 'a.lan', { count: 2, wait: 1 });
      expect(await inEchos(a)).toBe(aSeen + 2);
    }
  });

  it('each copy has its own switch: unpartition and traffic in one never show in the other', async () => {
    const [one, two] = copies;
    await one.net.unpartition('lan', { from: 'a', to: 'b' });
    const before = { a: await two.net.counters('lan', 'a'), b: await two.net.counters('lan', 'b'), echos: await inEchos(two.b) };
    const p = await ping(one.a, 'b.lan', { count: 5 });
    expect(p.received).toBe(5);
    expect(p.output).toContain(`(${one.net.nic('lan', 'b').address})`);
    // the other copy has the same MACs and addresses, yet saw none of it
    expect(await two.net.counters('lan', 'a')).toEqual(before.a);
    expect(await two.net.counters('lan', 'b')).toEqual(before.b);
    expect(await inEchos(two.b)).toBe(before.echos);
    expect((await one.net.counters('lan', 'b')).rx_packets).toBeGreaterThanOrEqual(5);
    // and still has its partition
    expect((await ping(two.a, 'b.lan', { count: 1, wait: 1 })).received).toBe(0);
    expect(two.net.impairments('lan').partitions).toEqual([{ from: 'a', to: 'b' }]);
    expect(await ok(two.a, 'cat /etc/hosts')).toContain('b.lan');
  });

  it('leaves no sockets, run directories or QEMU processes behind', async () => {
    const pids = suite.vms.map((v) => v.qemu.pid);
    const sockets = copies.flatMap((c) => c.net.launchArgs('a').concat(c.net.launchArgs('b'))).flatMap((x) => /addr\.path=([^,]+)/.exec(x)?.[1] ?? []);
    expect(sockets.length).toBe(4);
    for (const s of sockets) expect(existsSync(s)).toBe(true);
    for (const c of copies.splice(0)) await c.net.close();
    for (const s of sockets) expect(existsSync(s)).toBe(false);
    await suite.shutdown();
    const alive = pids.filter((pid) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    });
    expect(alive).toEqual([]);
    expect(readdirSync(suite.root).filter((f) => f !== 'templates')).toEqual([]);
    expect(existsSync(suite.netRoot) ? readdirSync(suite.netRoot) : []).toEqual([]);
  });
});
