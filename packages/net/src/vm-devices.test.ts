// The uplink and parked NICs' bookkeeping with a recording QMP and agent (the real guests are in test/net/uplink.test.ts).
import { afterEach, describe, expect, it } from 'vitest';
import { LocalBackend } from './backend.js';
import { LabNetwork, type VmRuntime } from './lab.js';
import { checkNicRecords, type NicRecord } from './nic-records.js';
import { macFor } from './qemu-args.js';
import { uplinkMac } from './qemu-devices.js';

const nets: LabNetwork[] = [];
const backends: LocalBackend[] = [];
afterEach(async () => {
  for (const n of nets.splice(0)) await n.close();
  for (const b of backends.splice(0)) await b.close();
});

function network(): LabNetwork {
  const b = new LocalBackend();
  backends.push(b);
  const n = new LabNetwork(b);
  nets.push(n);
  return n;
}

function fakeVm(opts: { paused?: boolean; unplugHangs?: boolean } = {}) {
  const qmp: string[] = [];
  const scripts: string[] = [];
  const runtime: VmRuntime = {
    qmp: {
      execute: async (command: string, args?: Record<string, unknown>) => {
        if (command === 'query-status') return { running: !opts.paused } as never;
        qmp.push(`${command} ${JSON.stringify(args)}`);
        return undefined as never;
      },
      waitForEvent: async () => {
        if (opts.unplugHangs) throw new Error('timed out after 30000 ms waiting for QMP event DEVICE_DELETED');
        return {};
      },
    },
    agent: { exec: async (cmd: string) => (scripts.push(cmd), { exitCode: 0, stdout: Buffer.alloc(0), stderr: Buffer.alloc(0) }) },
  };
  return { qmp, scripts, runtime };
}

const commands = (log: string[]) => log.map((l) => l.split(' ')[0]);

describe('the uplink', () => {
  it('is launched with a VM booted on an uplinked bridge: user-mode netdev in slot 0x1f, then route and nameserver in the guest', async () => {
    const net = network();
    await net.addBridge('lan');
    await net.attach('lan', ['a', 'b']);
    await net.setUplink('lan', true);
    const args = net.launchArgs('a');
    expect(args.slice(-4)).toEqual([
      '-netdev', 'user,id=pvnet1f,ipv6=off,net=10.0.2.0/24,host=10.0.2.2,dns=10.0.2.3',
      '-device', `virtio-net-pci,id=pvnic1f,netdev=pvnet1f,mac=${uplinkMac('a')},bus=pci.0,addr=0x1f,romfile=`,
    ]);
    expect(args.join(' ')).not.toContain('hostfwd');
    const a = fakeVm();
    await net.vmStarted('a', a.runtime);
    expect(a.qmp).toEqual([]);
    const up = a.scripts.find((s) => s.includes('ip route replace default'))!;
    expect(up).toContain(`wait_iface '${uplinkMac('a')}'`);
    expect(up).toContain("ip addr add '10.0.2.15/24'");
    expect(up).toContain("ip route replace default via '10.0.2.2'");
    expect(up).toContain("'nameserver 10.0.2.3'");
    expect(net.devices('a')).toEqual([{ slot: 0x10, mac: macFor('a', 'lan'), bridge: 'lan' }, { slot: 0x1f, mac: uplinkMac('a'), uplink: true }]);
    expect(net.state().bridges[0].uplink).toBe(true);
  });

  it('is hot-plugged into running VMs and unplugged again; a detach pulls its cable; other bridges never get one', async () => {
    const net = network();
    await net.addBridge('lan');
    await net.addBridge('wan');
    await net.attach('lan', 'a');
    await net.attach('wan', 'c');
    const a = fakeVm();
    const c = fakeVm();
    await net.vmStarted('a', a.runtime);
    await net.vmStarted('c', c.runtime);
    a.qmp.length = 0;
    await net.setUplink('lan', true);
    expect(a.qmp[0]).toBe('netdev_add {"type":"user","id":"pvnet1f","ipv6":false,"net":"10.0.2.0/24","host":"10.0.2.2","dns":"10.0.2.3"}');
    expect(a.qmp[1]).toContain('device_add {"driver":"virtio-net-pci","id":"pvnic1f","netdev":"pvnet1f"');
    expect(a.scripts.at(-1)).toContain('ip route replace default');
    await net.detach('lan', 'a');
    expect(a.qmp.at(-1)).toBe('set_link {"name":"pvnic1f","up":false}');
    await net.attach('lan', 'a');
    expect(a.qmp.at(-1)).toBe('set_link {"name":"pvnic1f","up":true}');
    a.qmp.length = 0;
    await net.setUplink('lan', false);
    expect(a.scripts.at(-1)).toContain("ip route del default via '10.0.2.2'");
    expect(a.scripts.at(-1)).toContain("sed '/^# provium-net uplink begin$/,/^# provium-net uplink end$/d'");
    expect(a.qmp).toEqual(['device_del {"id":"pvnic1f"}', 'netdev_del {"id":"pvnet1f"}']);
    expect(net.devices('a').map((d) => d.slot)).toEqual([0x10]);
    expect(c.qmp).toEqual([]);
    expect(c.scripts.join('\n')).not.toContain('default');
  });

  it('is refused while a member is paused, naming it, and nothing changes', async () => {
    const net = network();
    await net.addBridge('lan');
    await net.attach('lan', ['a', 'b']);
    const a = fakeVm();
    const b = fakeVm({ paused: true });
    await net.vmStarted('a', a.runtime);
    await net.vmStarted('b', b.runtime);
    a.qmp.length = 0;
    await expect(net.setUplink('lan', true)).rejects.toThrow('bridge "lan": VM "b" is paused: resume it before enabling the uplink of bridge "lan"');
    expect(net.uplink('lan')).toBe(false);
    expect(a.qmp).toEqual([]);
  });

  it('a guest that never lets go of the NIC fails the disable, naming the VM and the operation', async () => {
    const net = network();
    await net.addBridge('lan');
    await net.attach('lan', 'a');
    await net.setUplink('lan', true);
    await net.vmStarted('a', fakeVm({ unplugHangs: true }).runtime);
    await expect(net.setUplink('lan', false)).rejects.toThrow(
      'VM "a": unplugging its uplink NIC (the guest must let go of it) failed (disabling the uplink of bridge "lan"): timed out after 30000 ms waiting for QMP event DEVICE_DELETED',
    );
  });

  it('is kept in the network state and restored with it', async () => {
    const net = network();
    await net.addBridge('lan');
    await net.attach('lan', 'a');
    await net.setUplink('lan', true);
    const copy = network();
    await copy.importState(JSON.parse(JSON.stringify(net.state())));
    expect(copy.uplink('lan')).toBe(true);
    expect(copy.launchArgs('a').join(' ')).toContain('user,id=pvnet1f');
  });
});

describe('parked NICs (restoring a snapshot whose network is not here)', () => {
  const snapOfA: NicRecord[] = [{ slot: 0x10, mac: macFor('a', 'lan'), bridge: 'lan' }, { slot: 0x1f, mac: uplinkMac('a'), uplink: true }];

  it('a VM restored on no bridge gets the devices on hubs of their own, links down; the uplink leaves the guest', async () => {
    const net = network();
    const args = net.restoreArgs('c', snapOfA);
    expect(args).toEqual([
      '-netdev', 'hubport,id=pvnet10,hubid=16', '-netdev', 'hubport,id=pvsnk10,hubid=16', '-device', expect.stringContaining(`mac=${macFor('a', 'lan')},bus=pci.0,addr=0x10`),
      '-netdev', 'hubport,id=pvnet1f,hubid=31', '-netdev', 'hubport,id=pvsnk1f,hubid=31',
      '-netdev', 'user,id=pvlnk1f,ipv6=off,net=10.0.2.0/24,host=10.0.2.2,dns=10.0.2.3', // unconnected: it takes the snapshot's slirp state
      '-device', expect.stringContaining(`mac=${uplinkMac('a')},bus=pci.0,addr=0x1f`),
    ]);
    const c = fakeVm();
    await net.vmStarted('c', c.runtime, { restored: true });
    expect(c.qmp).toEqual(['set_link {"name":"pvnic10","up":false}', 'set_link {"name":"pvnic1f","up":false}']);
    expect(c.scripts.at(-1)).toContain("ip route del default via '10.0.2.2'");
    expect(c.scripts.at(-1)).toContain(`if e=$(iface '${uplinkMac('a')}'); then ip addr flush dev "$e"; fi`);
    expect(net.devices('c')).toEqual(snapOfA); // a snapshot of it carries them on
  });

  it('attaching it to a bridge of the same name connects the parked NIC (same slot and MAC) through its hub', async () => {
    const net = network();
    await net.addBridge('lan');
    net.restoreArgs('c', snapOfA);
    const c = fakeVm();
    await net.vmStarted('c', c.runtime, { restored: true });
    c.qmp.length = 0;
    await net.attach('lan', 'c');
    expect(net.nic('lan', 'c')).toMatchObject({ slot: 0x10, mac: macFor('a', 'lan'), plugged: true });
    expect(commands(c.qmp)).toEqual(['netdev_add', 'netdev_add', 'set_link']);
    expect(c.qmp[0]).toMatch(/^netdev_add \{"type":"stream","id":"pvlnk10","server":false,"addr":\{"type":"unix","path":"\/.*\.sock"\}\}$/);
    expect(c.qmp[1]).toBe('netdev_add {"type":"hubport","id":"pvhub10","hubid":16,"netdev":"pvlnk10"}');
    expect(c.scripts.at(-1)).toContain(`ip addr add '${net.nic('lan', 'c').address}/24'`);
    // the uplink NIC stays parked; the bridge with an uplink connects it too
    c.qmp.length = 0;
    await net.setUplink('lan', true);
    expect(c.qmp).toEqual(['netdev_add {"type":"hubport","id":"pvhub1f","hubid":31,"netdev":"pvlnk1f"}', 'set_link {"name":"pvnic1f","up":true}']);
    c.qmp.length = 0;
    await net.setUplink('lan', false);
    expect(c.qmp).toEqual(['device_del {"id":"pvnic1f"}', ...['pvnet1f', 'pvsnk1f', 'pvhub1f', 'pvlnk1f'].map((id) => `netdev_del {"id":"${id}"}`)]);
  });

  it('when the VM it was snapshotted from is on that bridge (its MAC taken), gets a new NIC and the parked one loses its addresses', async () => {
    const net = network();
    await net.addBridge('lan');
    await net.attach('lan', 'a');
    net.restoreArgs('c', snapOfA.slice(0, 1));
    const c = fakeVm();
    await net.vmStarted('c', c.runtime, { restored: true });
    await net.attach('lan', 'c');
    expect(net.nic('lan', 'c')).toMatchObject({ slot: 0x11, mac: macFor('c', 'lan') });
    expect(c.scripts.at(-1)).toContain(`if e=$(iface '${macFor('a', 'lan')}'); then ip addr flush dev "$e"; fi`);
    expect(net.devices('c').map((d) => d.slot)).toEqual([0x10, 0x11]);
  });

  it('restoring in place launches the NICs the snapshot has on their bridges and hot-plugs the others into free slots', async () => {
    const net = network();
    await net.addBridge('lan');
    await net.addBridge('wan');
    await net.attach('lan', 'a');
    const a = fakeVm();
    await net.vmStarted('a', a.runtime);
    const snap = net.devices('a');
    await net.attach('wan', 'a'); // after the snapshot: slot 0x11
    const args = net.restoreArgs('a', [...snap, { slot: 0x11, mac: macFor('x', 'other'), bridge: 'other' }]);
    expect(args.join(' ')).toContain(`stream,id=pvnet10`);
    expect(args.join(' ')).toContain('hubport,id=pvnet11,hubid=17');
    expect(net.nic('wan', 'a').slot).toBe(0x12);
    const again = fakeVm();
    await net.vmStarted('a', again.runtime, { restored: true });
    expect(again.qmp[1]).toContain('"addr":"0x12"');
    expect(again.scripts.at(-1)).toContain(`ip addr add '${net.nic('wan', 'a').address}/24'`);
  });

  it('a snapshot NIC list read back is checked', () => {
    expect(checkNicRecords(snapOfA, 'x')).toEqual(snapOfA);
    expect(() => checkNicRecords('nope', 'vm "c"')).toThrow('vm "c": the snapshot\'s NIC list is not a list ("nope"); take the snapshot again');
    expect(() => checkNicRecords([{ slot: 3, mac: macFor('a', 'b') }], 'x')).toThrow('bad PCI slot');
    expect(() => checkNicRecords([snapOfA[0], snapOfA[0]], 'x')).toThrow('two NICs in PCI slot 16');
    expect(() => checkNicRecords([{ slot: 0x1f, mac: macFor('a', 'b') }], 'x')).toThrow('malformed');
  });
});
