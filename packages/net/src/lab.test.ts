// LabNetwork's bookkeeping with a recording QMP and agent (the real guests are in test/net).
import { afterEach, describe, expect, it } from 'vitest';
import { LocalBackend } from './backend.js';
import { LabNetwork, type VmRuntime } from './lab.js';
import { checkState, type NetworkState } from './state.js';
import { macFor } from './qemu-args.js';

const backends: LocalBackend[] = [];
afterEach(async () => {
  for (const b of backends.splice(0)) await b.close();
});

function backend(): LocalBackend {
  const b = new LocalBackend();
  backends.push(b);
  return b;
}

function fakeVm() {
  const qmp: { command: string; args?: Record<string, unknown> }[] = [];
  const scripts: string[] = [];
  const runtime: VmRuntime = {
    qmp: { execute: async (command: string, args?: Record<string, unknown>) => void qmp.push({ command, args }) as never, waitForEvent: async () => ({}) },
    agent: { exec: async (cmd: string) => (scripts.push(cmd), { exitCode: 0, stdout: Buffer.alloc(0), stderr: Buffer.alloc(0) }) },
  };
  return { qmp, scripts, runtime };
}

const hostsOf = (script: string) => [...script.matchAll(/'(\d+\.\d+\.\d+\.\d+)\t([^']+)'/g)].map((m) => `${m[2]}=${m[1]}`);

describe('LabNetwork', () => {
  it('gives each VM a NIC per bridge: fixed MAC and PCI slot, an address in the bridge subnet, launch arguments', async () => {
    const net = new LabNetwork(backend());
    await net.addBridge('lan');
    await net.addBridge('wan', { subnet: '192.168.7.0/24' });
    await net.attach('lan', ['a', 'b']);
    await net.attach('wan', 'a');
    const [lanA, wanA] = net.nics('a');
    expect(lanA).toMatchObject({ bridge: 'lan', slot: 0x10, mac: macFor('a', 'lan'), attached: true, plugged: false, prefix: 24 });
    expect(lanA.address).toMatch(/^10\.\d+\.\d+\.1$/);
    expect(net.nic('lan', 'b').address).toBe(lanA.address.replace(/1$/, '2'));
    expect(wanA).toMatchObject({ bridge: 'wan', slot: 0x11, address: '192.168.7.1', mac: macFor('a', 'wan') });
    const args = net.launchArgs('a');
    expect(args).toHaveLength(8);
    expect(args[1]).toMatch(/^stream,id=pvnet10,server=off,addr\.type=unix,addr\.path=\/.*\.sock$/);
    expect(args[3]).toBe(`virtio-net-pci,id=pvnic10,netdev=pvnet10,mac=${lanA.mac},bus=pci.0,addr=0x10,romfile=`);
    expect(args[7]).toContain('addr=0x11');
    // same names, same MAC and subnet in another network
    const other = new LabNetwork(backend());
    await other.addBridge('lan');
    await other.attach('lan', 'a');
    expect(other.nic('lan', 'a')).toMatchObject({ mac: lanA.mac, address: lanA.address });
    await net.close();
    await other.close();
  });

  it('configures a started VM: its addresses, the others as static neighbours and as <vm>.<bridge> in /etc/hosts', async () => {
    const net = new LabNetwork(backend());
    await net.addBridge('lan');
    await net.attach('lan', ['a', 'b', 'c']);
    const a = fakeVm();
    await net.vmStarted('a', a.runtime);
    expect(a.scripts).toHaveLength(1);
    const s = a.scripts[0];
    expect(s).toContain(`wait_iface '${macFor('a', 'lan')}'`);
    expect(s).toContain(`ip addr add '${net.nic('lan', 'a').address}/24'`);
    expect(s).toContain(`-s '${net.nic('lan', 'b').address}' '${macFor('b', 'lan')}'`);
    expect(hostsOf(s).sort()).toEqual(['a.lan', 'b.lan', 'c.lan'].map((n) => `${n}=${net.nic('lan', n[0]).address}`).sort());
    expect(s).not.toContain('default');
    expect(a.qmp).toEqual([]);
    await net.close();
  });

  it('attach after start hot-plugs with the same device as at launch and updates every running member', async () => {
    const net = new LabNetwork(backend());
    await net.addBridge('lan');
    await net.attach('lan', 'a');
    const a = fakeVm();
    const b = fakeVm();
    await net.vmStarted('a', a.runtime);
    net.addVm('b');
    await net.vmStarted('b', b.runtime);
    await net.attach('lan', 'b');
    expect(b.qmp.map((c) => c.command)).toEqual(['netdev_add', 'device_add']);
    expect(b.qmp[0].args).toMatchObject({ type: 'stream', id: 'pvnet10', server: false, addr: { type: 'unix' } });
    expect(b.qmp[1].args).toMatchObject({ driver: 'virtio-net-pci', id: 'pvnic10', netdev: 'pvnet10', mac: macFor('b', 'lan'), bus: 'pci.0', addr: '0x10', romfile: '' });
    expect(hostsOf(a.scripts[1])).toContain(`b.lan=${net.nic('lan', 'b').address}`);
    expect(b.scripts[1]).toContain('ip addr add');
    expect(net.nic('lan', 'b').plugged).toBe(true);
    // the restore of this VM carries the hot-plugged NIC on its launch line, same slot and MAC
    expect(net.launchArgs('b')[3]).toContain(`mac=${macFor('b', 'lan')},bus=pci.0,addr=0x10`);

    await net.detach('lan', 'b');
    expect(b.qmp.at(-1)).toEqual({ command: 'set_link', args: { name: 'pvnic10', up: false } });
    expect(hostsOf(a.scripts.at(-1)!)).toEqual([`a.lan=${net.nic('lan', 'a').address}`]);
    expect(net.members('lan')).toEqual(['a']);
    expect(net.nic('lan', 'b').attached).toBe(false);
    await net.attach('lan', 'b');
    expect(b.qmp.at(-1)).toEqual({ command: 'set_link', args: { name: 'pvnic10', up: true } });
    await net.close();
  });

  it('removeBridge parks and scrubs the NICs of VMs that stay, and leaves alone those ending with it', async () => {
    const net = new LabNetwork(backend());
    await net.addBridge('lan');
    await net.attach('lan', ['stays', 'ends']);
    const stays = fakeVm();
    const ends = fakeVm();
    await net.vmStarted('stays', stays.runtime);
    await net.vmStarted('ends', ends.runtime);
    const before = { qmp: ends.qmp.length, scripts: ends.scripts.length };
    await net.removeBridge('lan', ['ends']);
    expect(stays.qmp).toContainEqual({ command: 'set_link', args: { name: 'pvnic10', up: false } });
    expect(stays.scripts.at(-1)).toContain(macFor('stays', 'lan'));
    expect({ qmp: ends.qmp.length, scripts: ends.scripts.length }).toEqual(before);
    expect(() => net.members('lan')).toThrow('lan');
    await net.close();
  });

  it('a hot-plug that QEMU refuses leaves the VM off the bridge', async () => {
    const net = new LabNetwork(backend());
    await net.addBridge('lan');
    const v = fakeVm();
    v.runtime.qmp.execute = async (command: string) => {
      if (command === 'device_add') throw new Error('Bus pci.0 is full');
      return undefined as never;
    };
    await net.vmStarted('a', v.runtime);
    await expect(net.attach('lan', 'a')).rejects.toThrow('cannot attach VM "a" to bridge "lan": hot-plugging its NIC failed: Bus pci.0 is full');
    expect(net.members('lan', true)).toEqual([]);
    expect(net.launchArgs('a')).toEqual([]);
    await net.close();
  });

  it('detach before start drops the NIC altogether', async () => {
    const net = new LabNetwork(backend());
    await net.addBridge('lan');
    await net.attach('lan', ['a', 'b']);
    await net.partition('lan', 'a', 'b');
    await net.detach('lan', 'b');
    expect(net.launchArgs('b')).toEqual([]);
    expect(net.members('lan', true)).toEqual(['a']);
    expect(net.impairments('lan').partitions).toEqual([]);
    await net.close();
  });

  it('records impairments, checks their arguments, and hands the switch the whole policy', async () => {
    const be = backend();
    const net = new LabNetwork(be);
    await net.addBridge('lan', { seed: 42 });
    await net.attach('lan', ['a', 'b', 'c']);
    await net.partition('lan', 'a', 'b');
    await net.partition('lan', { from: 'c', to: 'a' });
    await net.isolate('lan', 'c');
    await net.addLatency('lan', 50);
    await net.addLatency('lan', { from: 'a', to: 'b', ms: 5 });
    await net.dropRate('lan', 0.25);
    await net.bandwidthLimit('lan', 1_000_000);
    await net.bandwidthLimit('lan', { from: 'b', to: 'a', bps: 64_000 });
    expect(net.impairments('lan')).toEqual({
      partitions: [{ from: 'a', to: 'b' }, { from: 'b', to: 'a' }, { from: 'c', to: 'a' }],
      isolated: ['c'],
      latency: [{ ms: 50 }, { from: 'a', to: 'b', ms: 5 }],
      drop: [{ p: 0.25 }],
      bandwidth: [{ bps: 1_000_000 }, { from: 'b', to: 'a', bps: 64_000 }],
    });
    const sw = be.switch('s1')!;
    expect(sw.getPolicy()).toMatchObject({ seed: 42, isolated: ['c'], detached: [] });
    await net.unpartition('lan', 'b', 'a');
    // partition_all is a flag: it cuts pairs that join later, and restore_all lifts only the flag
    await net.partitionAll('lan');
    expect(net.impairments('lan')).toMatchObject({ partitions: [{ from: 'c', to: 'a' }], isolated: ['c'], cutAll: true });
    expect(sw.getPolicy()).toMatchObject({ cutAll: true });
    await net.restoreAll('lan');
    expect(net.impairments('lan')).toEqual({
      partitions: [{ from: 'c', to: 'a' }], isolated: ['c'], latency: [{ ms: 50 }, { from: 'a', to: 'b', ms: 5 }], drop: [{ p: 0.25 }],
      bandwidth: [{ bps: 1_000_000 }, { from: 'b', to: 'a', bps: 64_000 }],
    });
    await net.partitionAll('lan');
    // reset clears partitions, the flag, latency, drop rates and bandwidth limits; isolation stays (the sheet's §7)
    await net.reset('lan');
    expect(net.impairments('lan')).toEqual({ partitions: [], isolated: ['c'], latency: [], drop: [], bandwidth: [] });
    expect(sw.getPolicy()).toMatchObject({ partitions: [], isolated: ['c'], latency: [], drop: [], bandwidth: [] });
    expect(sw.getPolicy().cutAll).toBeUndefined();

    // a pair partition naming a VM that is not attached is recorded (graph state); one direction needs both attached
    await net.partition('lan', 'a', 'x');
    expect(net.impairments('lan').partitions).toEqual([{ from: 'a', to: 'x' }, { from: 'x', to: 'a' }]);
    await net.unpartition('lan', { from: 'x', to: 'a' });
    await expect(net.partition('lan', { from: 'a', to: 'x' })).rejects.toThrow('bridge "lan": VM "x" is not attached to it; attach it first');
    await net.reset('lan');
    await expect(net.partition('lan', 'a', 'a')).rejects.toThrow(/two different VMs/);
    await expect(net.partition('lan', { from: 'a' } as never)).rejects.toThrow(/two VMs or \{from=, to=\}/);
    await expect(net.dropRate('lan', 1.5)).rejects.toThrow(/probability from 0 to 1, got 1.5/);
    await expect(net.addLatency('lan', -3)).rejects.toThrow(/milliseconds/);
    await expect(net.bandwidthLimit('lan', 2.5)).rejects.toThrow(/whole bits per second >= 0 \(0 clears\), got 2.5/);
    await expect(net.bandwidthLimit('lan', { from: 'a', to: 'x', bps: 8 })).rejects.toThrow('VM "x" is not on bridge "lan"');
    await net.vmStarted('c', fakeVm().runtime); // running: detach leaves its NIC, unplugged from the bridge
    await net.detach('lan', 'c');
    await expect(net.bandwidthLimit('lan', { from: 'a', to: 'c', bps: 8 })).rejects.toThrow('bridge "lan": bandwidth_limit: VM "c" is detached from it; attach it first');
    await net.attach('lan', 'c');
    await expect(net.isolate('wan', 'a')).rejects.toThrow(/no bridge "wan" \(bridges: lan\)/);
    expect(net.impairments('lan').drop).toEqual([]); // a failed call changes nothing
    await net.close();
  });

  it('refuses names that cannot be host names and subnets that overlap', async () => {
    const net = new LabNetwork(backend());
    await expect(net.addBridge('my lan')).rejects.toThrow(/cannot be a host name suffix/);
    await net.addBridge('lan', { subnet: '10.5.0.0/16' });
    await expect(net.addBridge('wan', { subnet: '10.5.3.0/24' })).rejects.toThrow(/overlaps bridge "lan"/);
    await expect(net.addBridge('wan', { subnet: '10.6.3.1/24' })).rejects.toThrow(/host bits set \(did you mean 10\.6\.3\.0\/24\?\)/);
    await expect(net.addBridge('lan')).rejects.toThrow(/exists already/);
    await expect(net.attach('lan', 'a b')).rejects.toThrow(/cannot be a host name/);
    // a VM whose subnets would overlap: the whole list stays off the bridge
    const other = new LabNetwork(backend());
    await other.addBridge('x', { subnet: '10.8.0.0/24' });
    await other.addBridge('y', { subnet: '10.9.0.0/24' });
    await other.attach('x', 'v');
    await other.importState({
      version: 1, vms: [{ id: 'w', name: 'w' }], nics: [{ bridge: 'z', vm: 'w', mac: '02:00:00:00:00:01', slot: 16, address: '10.8.0.9', attached: true, configured: false }],
      bridges: [{ id: 'z', name: 'z', subnet: '10.8.0.0/24', seed: 1, impairments: { partitions: [], isolated: [], latency: [], drop: [] } }],
    });
    await expect(other.attach('x', ['u', 'w'])).rejects.toThrow(/VM "w" cannot be on bridge "x": its subnet 10.8.0.0\/24 overlaps bridge "z"/);
    expect(other.members('x')).toEqual(['v']);
    await other.close();
    await net.close();
  });

  it('state() is plain data; restore re-creates bridges, NICs and impairments on new switches', async () => {
    const be = backend();
    const net = new LabNetwork(be);
    await net.addBridge('lan');
    await net.addBridge('wan');
    await net.attach('lan', ['a', 'b']);
    await net.attach('wan', ['a', 'c']);
    await net.partition('lan', { from: 'a', to: 'b' });
    await net.dropRate('wan', { from: 'c', p: 0.5 });
    const a = fakeVm();
    await net.vmStarted('a', a.runtime);
    await net.detach('wan', 'a');
    const state = JSON.parse(JSON.stringify(net.state())) as NetworkState;
    expect(state.nics.find((n) => n.vm === 'a' && n.bridge === 'lan')).toMatchObject({ configured: true, attached: true, slot: 0x10 });
    expect(state.nics.find((n) => n.vm === 'a' && n.bridge === 'wan')).toMatchObject({ attached: false });

    const copy = await LabNetwork.restore(state, be);
    expect(copy.state()).toEqual(state);
    const strip = (args: string[]) => args.map((x) => x.replace(/addr\.path=[^,]*/, 'addr.path=P'));
    expect(strip(copy.launchArgs('a'))).toEqual(strip(net.launchArgs('a')));
    expect(copy.launchArgs('a')[1]).not.toBe(net.launchArgs('a')[1]); // its own switch
    // a restored guest is configured already; only its detached NIC's link is set down again
    const ra = fakeVm();
    await copy.vmStarted('a', ra.runtime, { restored: true });
    expect(ra.qmp).toEqual([{ command: 'set_link', args: { name: 'pvnic11', up: false } }]);
    expect(ra.scripts[0]).not.toContain('ip addr add');
    expect(be.switch('s3')!.getPolicy()).toMatchObject({ partitions: [{ from: 'a', to: 'b' }] });

    // part of a network, under other ids, inside an existing network
    const host = new LabNetwork(be);
    await host.addBridge('lan');
    await host.importState(net.state({ vms: ['a', 'b'] }), { vm: (id) => `c1/${id}`, bridge: (id) => `c1/${id}` });
    expect(host.bridgeIds()).toEqual(['lan', 'c1/lan', 'c1/wan']);
    expect(host.members('c1/lan')).toEqual(['c1/a', 'c1/b']);
    expect(host.impairments('c1/lan').partitions).toEqual([{ from: 'c1/a', to: 'c1/b' }]);
    await expect(host.importState(net.state({ vms: ['a'] }), { vm: (id) => `c1/${id}`, bridge: (id) => `c2/${id}` })).rejects.toThrow(/VM "c1\/a" is in this network already/);
    await Promise.all([net.close(), copy.close(), host.close()]);
  });

  it('a restored guest that has its configuration already (its snapshot says so) is not sent it again', async () => {
    const be = backend();
    const net = new LabNetwork(be);
    await net.addBridge('lan');
    await net.attach('lan', ['a', 'b']);
    const a = fakeVm();
    await net.vmStarted('a', a.runtime);
    expect(a.scripts).toHaveLength(1);
    const digest = net.guestDigestOf('a');
    expect(digest).toMatch(/^[0-9a-f]{32}$/);
    // a copy under other ids: the guest's names are the same, so is its configuration
    const restoreInto = async (recorded: string | undefined) => {
      const copy = new LabNetwork(be);
      await copy.importState(net.state(), { vm: (id) => `c/${id}`, bridge: (id) => `c/${id}` });
      copy.restoreArgs('c/a', net.devices('a'), recorded);
      const ra = fakeVm();
      await copy.vmStarted('c/a', ra.runtime, { restored: true });
      return { copy, ra };
    };
    const same = await restoreInto(digest);
    expect(same.ra.scripts).toEqual([]);
    expect(same.copy.guestDigestOf('c/a')).toBe(digest);
    // a change of the lab reaches it
    same.copy.addVm('c/d', { name: 'd' });
    await same.copy.attach('c/lan', 'c/d');
    expect(hostsOf(same.ra.scripts[0] ?? '')).toContain(`d.lan=${same.copy.nic('c/lan', 'c/d').address}`);
    // a snapshot that recorded nothing (or something else): configured as before
    const unknown = await restoreInto(undefined);
    expect(unknown.ra.scripts).toHaveLength(1);
    const other = await restoreInto('0'.repeat(32));
    expect(other.ra.scripts).toHaveLength(1);
    // a boot starts from nothing, whatever the guest held before
    const again = fakeVm();
    await net.vmStarted('a', again.runtime);
    expect(again.scripts).toHaveLength(1);
    await Promise.all([net, same.copy, unknown.copy, other.copy].map((n) => n.close()));
  });

  it('adopt() takes over a network built ahead on switches of another backend: bridges, NICs, impairments, switches', async () => {
    const mine = backend();
    const theirs = backend();
    const source = new LabNetwork(mine);
    await source.addBridge('lan');
    await source.attach('lan', ['a', 'b']);
    await source.partition('lan', { from: 'a', to: 'b' });
    const state = source.state();
    await source.close();
    const ahead = new LabNetwork(theirs);
    await ahead.importState(state, { vm: (id) => `k.1/${id}`, bridge: (id) => `k.1/${id}` });
    const args = ahead.restoreArgs('k.1/a', [{ slot: 0x10, mac: macFor('a', 'lan'), bridge: 'lan' }]);
    const file = new LabNetwork(mine);
    await file.addBridge('wan');
    await file.adopt(ahead);
    expect(file.bridgeIds()).toEqual(['wan', 'k.1/lan']);
    expect(file.members('k.1/lan')).toEqual(['k.1/a', 'k.1/b']);
    expect(file.impairments('k.1/lan').partitions).toEqual([{ from: 'k.1/a', to: 'k.1/b' }]);
    expect(args[1]).toContain(theirs.socketDir); // the QEMU launched ahead talks to the adopted switch
    // the adopted switch is driven by the adopter now; the old network is closed and empty
    await file.unpartition('k.1/lan', { from: 'k.1/a', to: 'k.1/b' });
    expect(theirs.switch('s1')!.getPolicy()).toMatchObject({ partitions: [] });
    await expect(ahead.addBridge('x')).rejects.toThrow(/closed/);
    expect(ahead.bridgeIds()).toEqual([]);
    // ids already taken: nothing moves
    const again = new LabNetwork(theirs);
    await again.importState(state, { vm: (id) => `k.1/${id}`, bridge: (id) => `k.1/${id}` });
    await expect(file.adopt(again)).rejects.toThrow(/VM "k.1\/a" is in this network already/);
    expect(again.bridgeIds()).toEqual(['k.1/lan']);
    // the adopter's close closes the adopted switches
    await file.close();
    expect(theirs.switch('s1')).toBeUndefined();
    await again.close();
  });

  it('checkState names what is wrong in a lab.json', () => {
    const good: NetworkState = {
      version: 1,
      bridges: [{ id: 'lan', name: 'lan', subnet: '10.1.2.0/24', seed: 1, impairments: { partitions: [], isolated: [], latency: [], drop: [] } }],
      vms: [{ id: 'a', name: 'a' }],
      nics: [{ bridge: 'lan', vm: 'a', mac: '02:00:00:00:00:01', slot: 16, address: '10.1.2.1', attached: true, configured: true }],
    };
    expect(() => checkState(good)).not.toThrow();
    expect(() => checkState({ ...good, version: 2 as 1 })).toThrow(/unknown version 2/);
    expect(() => checkState({ ...good, nics: [{ ...good.nics[0], bridge: 'wan' }] })).toThrow(/unknown bridge/);
    expect(() => checkState({ ...good, nics: [{ ...good.nics[0], slot: 3 }] })).toThrow(/bad PCI slot 3/);
    expect(() => checkState({ ...good, nics: [good.nics[0], { ...good.nics[0], bridge: 'lan' }] })).toThrow(/two NICs in PCI slot 16/);
  });
});
