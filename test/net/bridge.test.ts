/**
 * One lab of three real VMs: a, b and c on bridge `lan` from their launch
 * (cold NICs); after boot a and b are also put on `wan` (hot-plugged NICs, as
 * in `provium.lan:attach({a, b})` after `:boot()`). Every impairment is
 * checked from inside the guests. Three boots in all.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LabNetwork } from '../../packages/net/src/index.js';
import { bootVm, guestStats, ifaceOf, inEchos, ok, ping, sh, startSuite, type Suite, type TestVm } from './helpers.js';

let suite: Suite;
let net: LabNetwork;
let a: TestVm;
let b: TestVm;
let c: TestVm;

beforeAll(async () => {
  suite = await startSuite();
  net = new LabNetwork(suite.backend);
  await net.addBridge('lan');
  await net.addBridge('wan');
  await net.attach('lan', ['a', 'b', 'c']);
  [a, b, c] = await Promise.all(['a', 'b', 'c'].map((n) => bootVm(suite, net, n)));
  await net.attach('wan', ['a', 'b']);
}, 600_000);

afterEach(async () => {
  await net.reset('lan');
  await net.reset('wan');
});

afterAll(async () => {
  await net?.close();
  await suite?.dispose();
});

const addr = (bridge: string, vm: string) => net.nic(bridge, vm).address;

/**
 * Round trips (ms) of pings from `from` to `to`'s wan address sent over lan: a route and a static
 * neighbour on `from` put the echo requests on lan (to `to`'s lan MAC); `to` answers its wan peer
 * over wan. So each echo crosses lan one way only, from → to.
 */
async function lanOneWay(from: TestVm, to: TestVm): Promise<number[]> {
  const lanIf = await ifaceOf(from, net.nic('lan', from.name).mac);
  const target = addr('wan', to.name);
  await ok(from, `ip route add ${target}/32 dev ${lanIf} src ${addr('wan', from.name)} && arp -i ${lanIf} -s ${target} ${net.nic('lan', to.name).mac}`);
  try {
    const p = await ping(from, target, { count: 3 });
    expect(p.rtts, p.output).toHaveLength(3);
    return p.rtts;
  } finally {
    await ok(from, `ip route del ${target}/32 dev ${lanIf} && arp -i ${lanIf} -d ${target}`);
  }
}

describe('a bridge of real VMs', () => {
  it('every VM reaches every other by <vm>.<bridge>', async () => {
    for (const [from, to] of [[a, 'b'], [a, 'c'], [b, 'a'], [b, 'c'], [c, 'a'], [c, 'b']] as const) {
      const p = await ping(from, `${to}.lan`, { count: 1 });
      expect(p.received, `${from.name} → ${to}.lan:\n${p.output}`).toBe(1);
      expect(p.output).toContain(`(${addr('lan', to)})`);
    }
  });

  it('no route leaves the lab: only the bridges\' subnets, no default route', async () => {
    const routes = (await ok(a, 'ip route')).trim().split('\n').sort();
    const lan = net.nic('lan', 'a');
    const wan = net.nic('wan', 'a');
    const subnet = (ip: string) => ip.replace(/\.\d+$/, '.0/24');
    expect(routes.map((r) => r.split(' ')[0]).sort()).toEqual([subnet(lan.address), subnet(wan.address)].sort());
    const out = await sh(a, 'ping -c 1 -W 1 1.1.1.1; ping -c 1 -W 1 10.0.2.2');
    expect(out.code).not.toBe(0);
    expect(out.err).toContain('Network is unreachable');
  });

  it('a VM on two bridges has an address on each; names resolve only for the bridges a VM is on', async () => {
    const lanIf = await ifaceOf(a, net.nic('lan', 'a').mac);
    const wanIf = await ifaceOf(a, net.nic('wan', 'a').mac);
    expect(lanIf).not.toBe(wanIf);
    expect(await ok(a, `ip addr show ${wanIf}`)).toContain(`${addr('wan', 'a')}/24`);
    expect((await ping(a, 'b.wan', { count: 1 })).received).toBe(1);
    expect((await ping(b, 'a.wan', { count: 1 })).received).toBe(1);
    const hosts = await ok(c, 'cat /etc/hosts');
    expect(hosts).toContain('a.lan');
    expect(hosts).not.toContain('.wan');
    expect((await sh(c, 'ping -c 1 -W 1 b.wan')).code).not.toBe(0);
    // the hot-plugged NICs sit in the slot they will have on a restore's launch line
    expect(net.launchArgs('a').join(' ')).toContain(`mac=${net.nic('wan', 'a').mac},bus=pci.0,addr=0x11`);
    const pci = await a.qemu.qmp.execute<{ devices: { slot: number; qdev_id: string }[] }[]>('query-pci');
    expect(pci[0].devices.filter((d) => d.qdev_id.startsWith('pvnic')).map((d) => [d.qdev_id, d.slot])).toEqual([['pvnic10', 0x10], ['pvnic11', 0x11]]);
  });

  it('partition(a, b) blocks both directions and nothing else; unpartition lifts it', async () => {
    await net.partition('lan', 'a', 'b');
    expect((await ping(a, 'b.lan')).received).toBe(0);
    expect((await ping(b, 'a.lan')).received).toBe(0);
    expect((await ping(a, 'c.lan', { count: 1 })).received).toBe(1);
    expect((await ping(b, 'c.lan', { count: 1 })).received).toBe(1);
    // only on lan: the same pair still talks over wan
    expect((await ping(a, 'b.wan', { count: 1 })).received).toBe(1);
    await net.unpartition('lan', 'a', 'b');
    expect((await ping(a, 'b.lan', { count: 1 })).received).toBe(1);
  });

  it('partition({from=a, to=b}) blocks a → b only: b still reaches a, a\'s answers are lost', async () => {
    await net.partition('lan', { from: 'a', to: 'b' });
    const bSeen = await inEchos(b);
    const aSeen = await inEchos(a);
    expect((await ping(a, 'b.lan')).received).toBe(0);
    expect(await inEchos(b)).toBe(bSeen); // a's requests never reached b
    expect((await ping(b, 'a.lan')).received).toBe(0); // the replies go a → b
    expect(await inEchos(a)).toBe(aSeen + 3); // b's requests reached a
    await net.unpartition('lan', { from: 'a', to: 'b' });
    expect((await ping(b, 'a.lan', { count: 1 })).received).toBe(1);
  });

  it('partition_all cuts every pair; restore_all brings them back', async () => {
    await net.partitionAll('lan');
    for (const [from, to] of [[a, 'b'], [b, 'c'], [c, 'a']] as const) expect((await ping(from, `${to}.lan`, { count: 1, wait: 1 })).received).toBe(0);
    await net.restoreAll('lan');
    for (const [from, to] of [[a, 'b'], [b, 'c'], [c, 'a']] as const) expect((await ping(from, `${to}.lan`, { count: 1 })).received).toBe(1);
  });

  it('add_latency shows in ping round trips, 50 ms each way', async () => {
    await net.addLatency('lan', 50);
    const both = await ping(a, 'b.lan', { count: 3 });
    expect(both.rtts).toHaveLength(3);
    for (const rtt of both.rtts) expect(rtt).toBeGreaterThanOrEqual(100);
  });

  it('add_latency {from=a, to=b} delays a → b only: each way timed alone, with the echo coming back over wan', async () => {
    await net.addLatency('lan', { from: 'a', to: 'b', ms: 200 });
    const aToB = await lanOneWay(a, b);
    const bToA = await lanOneWay(b, a);
    expect(Math.min(...aToB)).toBeGreaterThanOrEqual(200);
    // b → a crosses lan without the delay: its round trips are a fraction of a → b's (a switch that
    // delayed both ways, or the wrong way, makes them alike or the other way round)
    expect(Math.min(...bToA)).toBeLessThan(Math.min(...aToB) / 2);
  });

  it('drop_rate loses frames: all at 1, some at 0.5 (counted as dropped)', async () => {
    await net.dropRate('lan', 1);
    expect((await ping(a, 'b.lan', { count: 2, wait: 1 })).received).toBe(0);
    await net.dropRate('lan', 0.5);
    const before = await net.counters('lan', 'a');
    const p = await ping(a, 'b.lan', { count: 40, interval: 0.05, wait: 2 });
    const after = await net.counters('lan', 'a');
    expect(p.transmitted).toBe(40);
    // an echo needs its request and its reply through (odds 1/4): all 40 lost has odds 0.75^40 (1e-5)
    expect(p.received).toBeGreaterThan(0);
    expect(p.received).toBeLessThan(40);
    expect(after.tx_dropped - before.tx_dropped + after.rx_dropped - before.rx_dropped).toBeGreaterThan(0);
  });

  it('isolate(c) cuts c from everyone; unisolate lets it back', async () => {
    await net.isolate('lan', 'c');
    expect((await ping(a, 'c.lan', { count: 1, wait: 1 })).received).toBe(0);
    expect((await ping(c, 'b.lan', { count: 1, wait: 1 })).received).toBe(0);
    expect((await ping(a, 'b.lan', { count: 1 })).received).toBe(1);
    await net.unisolate('lan', 'c');
    expect((await ping(c, 'a.lan', { count: 1 })).received).toBe(1);
  });

  it('detach(c): its link goes down, its frames stop, the others forget its name; attach plugs it back', async () => {
    const cIf = await ifaceOf(c, net.nic('lan', 'c').mac);
    await net.detach('lan', 'c');
    expect((await ok(c, `cat /sys/class/net/${cIf}/carrier`)).trim()).toBe('0');
    expect(await ok(a, 'cat /etc/hosts')).not.toContain('c.lan');
    expect((await ping(a, addr('lan', 'c'), { count: 1, wait: 1 })).received).toBe(0);
    expect(net.members('lan')).toEqual(['a', 'b']);
    await net.attach('lan', 'c');
    expect((await ok(c, `cat /sys/class/net/${cIf}/carrier`)).trim()).toBe('1');
    expect((await ping(a, 'c.lan', { count: 1 })).received).toBe(1);
  });

  it('counters count the real traffic: the switch agrees with the guests\' kernels, frame for frame', async () => {
    // wan carries only a and b (IPv4 only, static neighbours): nothing but what the test sends.
    const aIf = await ifaceOf(a, net.nic('wan', 'a').mac);
    const bIf = await ifaceOf(b, net.nic('wan', 'b').mac);
    const sa0 = await net.counters('wan', 'a');
    const ga0 = await guestStats(a, aIf);
    await ok(b, 'mkdir -p /tmp/www && dd if=/dev/zero of=/tmp/www/data bs=1000 count=300 2>/dev/null && httpd -p 8000 -h /tmp/www');
    expect((await ok(a, `wget -q -O - http://${addr('wan', 'b')}:8000/data | wc -c`)).trim()).toBe('300000');
    expect((await ping(a, 'b.wan', { count: 5, size: 1000 })).received).toBe(5);
    const sa = await net.counters('wan', 'a');
    const sb = await net.counters('wan', 'b');
    const ga = await guestStats(a, aIf);
    const gb = await guestStats(b, bIf);
    // what a's kernel sent since the start of the test is what the switch got from a
    expect(sa.tx_packets - sa0.tx_packets).toBe(ga.tx_packets - ga0.tx_packets);
    expect(sa.tx_bytes - sa0.tx_bytes).toBe(ga.tx_bytes - ga0.tx_bytes);
    expect(sa.rx_bytes - sa0.rx_bytes).toBeGreaterThan(300_000 + 5 * 1000);
    // and over the NIC's whole life, switch and guest kernels agree both ways
    expect({ tx: sa.tx_packets, rx: sa.rx_packets, txb: sa.tx_bytes, rxb: sa.rx_bytes }).toEqual({ tx: ga.tx_packets, rx: ga.rx_packets, txb: ga.tx_bytes, rxb: ga.rx_bytes });
    expect({ tx: sb.tx_packets, rx: sb.rx_packets }).toEqual({ tx: gb.tx_packets, rx: gb.rx_packets });
    // two ports, no drops: everything a sent was delivered to b and the reverse
    expect(sa.tx_packets).toBe(sb.rx_packets);
    expect(sb.tx_packets).toBe(sa.rx_packets);
    expect(sa.tx_dropped + sa.rx_dropped).toBe(0);
  });

  it('frames keep flowing while the thread that owns the lab is blocked (the switches run in the network thread)', async () => {
    const uptime = async () => Number((await ok(a, 'cut -d" " -f1 /proc/uptime')).trim());
    const start = await uptime();
    // Sent before this thread blocks; the guest runs it while we are stuck.
    const run = sh(a, 'ping -c 5 -i 0.2 -W 5 b.lan >/tmp/ping.out; cut -d" " -f1 /proc/uptime');
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 8_000); // no event loop here for 8 s
    const r = await run;
    const done = Number(r.out.trim());
    expect(await ok(a, 'cat /tmp/ping.out')).toContain('5 packets received');
    // the pings were answered during the block: a switch in this thread could not have forwarded them before it ended
    expect(done).toBeLessThan(start + 8);
  });
});
