/**
 * The uplink on real guests: a (on `lan`) and c (on `wan`) boot without it;
 * enabling it on `lan` hot-plugs a's uplink NIC and a fetches a file with
 * busybox wget from an HTTP server this test runs on the host's 127.0.0.1
 * (10.0.2.2 to the guest); c never gets a route out. d boots on the uplinked
 * bridge (its uplink NIC on the launch line). Nothing listens on the host for
 * the guests; disabling takes the NIC, the route and the nameserver away.
 */
import { existsSync, readdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LabNetwork } from '../../packages/net/src/index.js';
import { bootVm, ok, sh, startSuite, type Suite, type TestVm } from './helpers.js';

const BODY = `provium uplink test ${process.pid}\n`;
let suite: Suite;
let net: LabNetwork;
let server: Server;
let url: string;
let a: TestVm;
let c: TestVm;
let d: TestVm;

// busybox wget's own -T makes this guest's busybox (Debian 1.35) crash: the guest's timeout(1) bounds it instead.
const fetch = (vm: TestVm, seconds = 20) => sh(vm, `timeout ${seconds} busybox wget -q -O - ${url}`);
const hmp = (vm: TestVm, cmd: string) => vm.qemu.qmp.execute<string>('human-monitor-command', { 'command-line': cmd });
/** TCP and UDP sockets listening in `pid` (ss as root sees every process). */
const listeners = (pid: number) => execFileSync('ss', ['-Htulnp'], { encoding: 'utf8' }).split('\n').filter((l) => l.includes(`pid=${pid},`));

beforeAll(async () => {
  server = createServer((_req, res) => res.end(BODY));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://10.0.2.2:${(server.address() as AddressInfo).port}/file`;
  suite = await startSuite();
  net = new LabNetwork(suite.backend);
  await net.addBridge('lan');
  await net.addBridge('wan');
  await net.attach('lan', 'a');
  await net.attach('wan', 'c');
  [a, c] = await Promise.all([bootVm(suite, net, 'a'), bootVm(suite, net, 'c')]);
}, 600_000);

afterAll(async () => {
  await net?.close();
  await suite?.dispose();
  server?.close();
});

describe('bridge uplink on real guests', () => {
  it('is off by default: no default route, the host is out of reach', async () => {
    expect(await ok(a, 'ip route')).not.toContain('default');
    expect((await fetch(a, 5)).code).not.toBe(0);
  });

  it('enabled on a running VM\'s bridge: its uplink NIC is hot-plugged, it fetches a file from the host\'s 127.0.0.1 with busybox wget', async () => {
    await net.setUplink('lan', true);
    const r = await fetch(a);
    expect(r.code).toBe(0);
    expect(r.out).toBe(BODY);
    expect(await ok(a, 'ip route')).toMatch(/^default via 10\.0\.2\.2 dev \S+/m);
    expect((await ok(a, 'cat /etc/resolv.conf')).split('\n').filter((l) => l.startsWith('nameserver'))[0]).toBe('nameserver 10.0.2.3');
  });

  it('a VM on another bridge of the lab gets no default route and cannot reach 10.0.2.2', async () => {
    expect(await ok(c, 'ip route')).not.toContain('default');
    expect((await sh(c, 'ping -c 1 -W 2 10.0.2.2')).code).not.toBe(0);
    expect((await fetch(c, 5)).code).not.toBe(0);
    expect(await hmp(c, 'info network')).not.toContain('type=user');
  });

  it('a VM booted on the uplinked bridge has its uplink NIC from launch and fetches too', async () => {
    await net.attach('lan', 'd');
    d = await bootVm(suite, net, 'd');
    expect(d.qemu.args.join(' ')).toContain('-netdev user,id=pvnet1f,ipv6=off,net=10.0.2.0/24,host=10.0.2.2,dns=10.0.2.3 -device virtio-net-pci,id=pvnic1f,netdev=pvnet1f');
    expect((await fetch(d)).out).toBe(BODY);
  });

  it('nothing listens on the host for the guests: no hostfwd, no socket of their QEMUs', async () => {
    for (const vm of [a, d]) {
      expect(vm.qemu.args.join(' ')).not.toContain('hostfwd');
      expect(await hmp(vm, 'info usernet')).not.toContain('HOST_FORWARD');
      expect(listeners(vm.qemu.pid)).toEqual([]);
    }
  });

  it('disabled: the NIC is unplugged, the default route and the nameserver go, the host is out of reach again', async () => {
    await net.setUplink('lan', false);
    for (const vm of [a, d]) {
      expect(await hmp(vm, 'info network')).not.toContain('pvnic1f');
      expect(await ok(vm, 'ip route')).not.toContain('default');
      expect(await ok(vm, 'cat /etc/resolv.conf')).not.toContain('10.0.2.3');
      expect((await fetch(vm, 5)).code).not.toBe(0);
    }
    // the bridge itself is untouched
    expect((await sh(a, 'ping -c 1 -W 2 d.lan')).code).toBe(0);
  });

  it('leaves no QEMU, run directory or socket behind', async () => {
    const pids = suite.vms.map((v) => v.qemu.pid);
    await net.close();
    await suite.shutdown();
    expect(pids.filter((pid) => existsSync(`/proc/${pid}`))).toEqual([]);
    expect(readdirSync(suite.root)).toEqual([]);
    expect(existsSync(suite.netRoot) ? readdirSync(suite.netRoot) : []).toEqual([]);
  });
});
