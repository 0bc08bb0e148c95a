/**
 * The networks of a lab (or of a whole test file): bridges, which VM is on
 * which bridge with which NIC (MAC, PCI slot, address), the impairments of
 * each bridge, and the glue to QEMU (launch arguments, hot-plug) and to the
 * guests (addresses, /etc/hosts). Its state() is plain data for lab.json;
 * LabNetwork.restore() re-creates it on fresh private switches.
 *
 * VMs and bridges are known by ids the caller chooses (unique in this
 * network); their `name`s make the guests' host names, `<vm>.<bridge>`.
 */
import { createHash } from 'node:crypto';
import type { SwitchBackend, SwitchHandle } from './backend.js';
import { applyGuestConfig, isHostName, type GuestAgentLike, type GuestNetConfig } from './guest.js';
import {
  addPartition, cloneImpairments, emptyImpairments, forgetPort, removePartition, setDrop, setIsolated, setLatency,
  type Direction, type Impairments, type SwitchPolicy,
} from './impairments.js';
import { NIC_FIRST_SLOT, NIC_LAST_SLOT, coldNicArgs, hotplugNic, macFor, setNicLink, type QmpLike } from './qemu-args.js';
import { seedFrom } from './rng.js';
import type { PortCounters } from './switch.js';

/** What the network needs of a running VM. */
export interface VmRuntime {
  qmp: QmpLike;
  agent: GuestAgentLike;
}

export interface BridgeOptions {
  /** Host name suffix in the guests (`a.<name>`). Default: the bridge id. */
  name?: string;
  /** IPv4 subnet, `10.1.2.0/24` (prefix 16 to 29). Default: a /24 in 10.0.0.0/8 derived from the name. */
  subnet?: string;
  /** Seed of the drop-rate generator. Default: derived from the name. */
  seed?: number;
}

export interface NicInfo {
  bridge: string;
  vm: string;
  mac: string;
  /** PCI slot on pci.0. */
  slot: number;
  /** IPv4 address, dotted. */
  address: string;
  /** Prefix length of the bridge's subnet. */
  prefix: number;
  /** On the bridge (false after detach: the NIC stays in the VM, its cable is out). */
  attached: boolean;
  /** The device exists in the VM's QEMU (launched with it or hot-plugged). */
  plugged: boolean;
}

/** lab.json's view of a network. */
export interface NetworkState {
  version: 1;
  bridges: { id: string; name: string; subnet: string; seed: number; impairments: Impairments }[];
  vms: { id: string; name: string }[];
  nics: { bridge: string; vm: string; mac: string; slot: number; address: string; attached: boolean; configured: boolean }[];
}

interface Bridge {
  id: string;
  name: string;
  /** Network address as a 32-bit number, and prefix length. */
  net: number;
  prefix: number;
  seed: number;
  impairments: Impairments;
  sw: SwitchHandle;
}

interface Vm {
  id: string;
  name: string;
  runtime: VmRuntime | undefined;
}

interface Nic {
  bridge: string;
  vm: string;
  mac: string;
  slot: number;
  ip: number;
  attached: boolean;
  plugged: boolean;
  /** The guest has its address (set after configuring; carried over by a restore). */
  configured: boolean;
  socketPath: string;
}

export type Endpoints = [string, string] | [Direction];

const ipString = (ip: number) => [24, 16, 8, 0].map((s) => (ip >>> s) & 255).join('.');
function parseIp(s: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return ((parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]) >>> 0;
}
const mask = (prefix: number) => (prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0);

function parseSubnet(s: string, where: string): { net: number; prefix: number } {
  const m = /^([\d.]+)\/(\d+)$/.exec(s);
  const ip = m ? parseIp(m[1]) : undefined;
  const prefix = m ? Number(m[2]) : NaN;
  if (ip === undefined || !(prefix >= 16 && prefix <= 29)) throw new Error(`${where}: subnet must look like "10.1.2.0/24" with a prefix from 16 to 29, got ${JSON.stringify(s)}`);
  if ((ip & mask(prefix)) >>> 0 !== ip) throw new Error(`${where}: subnet ${s} has host bits set (did you mean ${ipString((ip & mask(prefix)) >>> 0)}/${prefix}?)`);
  return { net: ip, prefix };
}

const key = (bridge: string, vm: string) => `${bridge}\0${vm}`;

export class LabNetwork {
  private readonly bridgesById = new Map<string, Bridge>();
  private readonly vmsById = new Map<string, Vm>();
  private readonly nicsByKey = new Map<string, Nic>();
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(private readonly backend: SwitchBackend) {}

  /** A network re-created from state(): same bridges, NICs and impairments, on new private switches. */
  static async restore(state: NetworkState, backend: SwitchBackend): Promise<LabNetwork> {
    const net = new LabNetwork(backend);
    try {
      await net.importState(state);
    } catch (err) {
      await net.close();
      throw err;
    }
    return net;
  }

  /** Operations run one at a time, in call order. */
  private serial<T>(op: () => Promise<T>): Promise<T> {
    const run = this.queue.then(() => {
      if (this.closed) throw new Error('lab network closed');
      return op();
    });
    this.queue = run.catch(() => {});
    return run;
  }

  // ---------------------------------------------------------------- lookups

  private bridge(id: string): Bridge {
    const b = this.bridgesById.get(id);
    if (!b) throw new Error(`no bridge "${id}"${this.bridgesById.size ? ` (bridges: ${[...this.bridgesById.keys()].join(', ')})` : ''}`);
    return b;
  }

  private vm(id: string): Vm {
    const v = this.vmsById.get(id);
    if (!v) throw new Error(`no VM "${id}" in this network`);
    return v;
  }

  private nicsOf(filter: { bridge?: string; vm?: string; attached?: boolean }): Nic[] {
    return [...this.nicsByKey.values()]
      .filter((n) => (filter.bridge === undefined || n.bridge === filter.bridge) && (filter.vm === undefined || n.vm === filter.vm) && (filter.attached === undefined || n.attached === filter.attached))
      .sort((a, b) => a.slot - b.slot || (a.vm < b.vm ? -1 : 1));
  }

  /** The NIC of `vm` on `bridge`; the error names the bridge's members. */
  private member(b: Bridge, vm: string): Nic {
    const n = this.nicsByKey.get(key(b.id, vm));
    if (!n) {
      const members = this.nicsOf({ bridge: b.id }).map((x) => x.vm);
      throw new Error(`VM "${vm}" is not on bridge "${b.name}"${members.length ? ` (its VMs: ${members.join(', ')})` : ' (it has no VMs)'}`);
    }
    return n;
  }

  hasBridge(id: string): boolean {
    return this.bridgesById.has(id);
  }

  bridgeIds(): string[] {
    return [...this.bridgesById.keys()];
  }

  /** VMs on the bridge (attached ones; with `all`, detached ones too). */
  members(bridge: string, all = false): string[] {
    this.bridge(bridge);
    return this.nicsOf({ bridge, ...(all ? {} : { attached: true }) }).map((n) => n.vm);
  }

  nic(bridge: string, vm: string): NicInfo {
    return this.info(this.member(this.bridge(bridge), vm));
  }

  /** Every NIC of a VM, by PCI slot. */
  nics(vm: string): NicInfo[] {
    return this.nicsOf({ vm }).map((n) => this.info(n));
  }

  impairments(bridge: string): Impairments {
    return cloneImpairments(this.bridge(bridge).impairments);
  }

  private info(n: Nic): NicInfo {
    const b = this.bridge(n.bridge);
    return { bridge: n.bridge, vm: n.vm, mac: n.mac, slot: n.slot, address: ipString(n.ip), prefix: b.prefix, attached: n.attached, plugged: n.plugged };
  }

  // ---------------------------------------------------------------- building

  /** Registers a VM (its host name defaults to its id). attach() registers unknown VMs itself. */
  addVm(id: string, opts: { name?: string } = {}): void {
    const name = opts.name ?? id;
    if (!isHostName(name)) throw new Error(`VM name "${name}" cannot be a host name on a bridge (letters, digits, '_', '-', '.')`);
    const v = this.vmsById.get(id);
    if (v) {
      if (v.name !== name) throw new Error(`VM "${id}" is already in this network as "${v.name}"`);
      return;
    }
    this.vmsById.set(id, { id, name, runtime: undefined });
  }

  /** Creates a bridge and its switch. */
  addBridge(id: string, opts: BridgeOptions = {}): Promise<void> {
    return this.serial(async () => {
      if (this.bridgesById.has(id)) throw new Error(`bridge "${id}" exists already`);
      const name = opts.name ?? id;
      if (!isHostName(name) || name.includes('.')) throw new Error(`bridge name "${name}" cannot be a host name suffix (letters, digits, '_', '-')`);
      const subnet = opts.subnet !== undefined ? parseSubnet(opts.subnet, `bridge "${name}"`) : this.defaultSubnet(name);
      const clash = [...this.bridgesById.values()].find((b) => overlaps(b, subnet));
      if (clash) throw new Error(`bridge "${name}": subnet ${ipString(subnet.net)}/${subnet.prefix} overlaps bridge "${clash.name}" (${ipString(clash.net)}/${clash.prefix})`);
      const seed = opts.seed ?? seedFrom(name);
      if (!Number.isInteger(seed)) throw new Error(`bridge "${name}": seed must be an integer, got ${opts.seed}`);
      await this.createBridge({ id, name, ...subnet, seed, impairments: emptyImpairments() });
    });
  }

  private async createBridge(b: Omit<Bridge, 'sw'>): Promise<Bridge> {
    const sw = await this.backend.createSwitch({ name: b.name, seed: b.seed });
    const bridge: Bridge = { ...b, sw };
    this.bridgesById.set(b.id, bridge);
    await this.pushPolicy(bridge);
    return bridge;
  }

  /** A /24 in 10.0.0.0/8 from the name's hash, skipping ones this network uses. */
  private defaultSubnet(name: string): { net: number; prefix: number } {
    for (let attempt = 0; ; attempt++) {
      const h = createHash('sha256').update(`${name}\0${attempt}`).digest();
      const net = ((10 << 24) | (h[0] << 16) | (h[1] << 8)) >>> 0;
      const s = { net, prefix: 24 };
      if (h[0] !== 0 && ![...this.bridgesById.values()].some((b) => overlaps(b, s))) return s;
    }
  }

  /**
   * Puts VMs on a bridge. A VM not running yet gets its NIC at launch
   * (launchArgs); a running one gets it hot-plugged and configured now. Every
   * running member's /etc/hosts and neighbour table are brought up to date.
   * Attaching a member again is a no-op; a detached one is plugged back in.
   */
  attach(bridge: string, vms: string | string[]): Promise<void> {
    return this.serial(async () => {
      const b = this.bridge(bridge);
      const ids = Array.isArray(vms) ? vms : [vms];
      for (const id of ids) if (!this.vmsById.has(id)) this.addVm(id);
      const changed: Nic[] = [];
      const created: Nic[] = [];
      try {
        for (const id of ids) {
          const existing = this.nicsByKey.get(key(b.id, id));
          if (existing?.attached) continue;
          if (existing) {
            changed.push(existing);
            continue;
          }
          const nic = await this.newNic(b, this.vm(id));
          created.push(nic);
          changed.push(nic);
        }
      } catch (err) {
        // One VM that cannot go on the bridge (slots, subnets): none of the list does.
        for (const n of created) {
          this.nicsByKey.delete(key(b.id, n.vm));
          await b.sw.removePort(n.vm).catch(() => {});
        }
        throw err;
      }
      for (const n of changed) n.attached = true;
      if (changed.length === 0) return;
      await this.pushPolicy(b);
      await Promise.all(
        changed.map(async (n) => {
          const rt = this.vm(n.vm).runtime;
          if (!rt) return;
          if (n.plugged) {
            await setNicLink(rt.qmp, n.slot, true);
            return;
          }
          try {
            await hotplugNic(rt.qmp, { slot: n.slot, mac: n.mac, socketPath: n.socketPath });
          } catch (err) {
            // QEMU refused the device: the VM is not on the bridge after all.
            this.nicsByKey.delete(key(b.id, n.vm));
            await b.sw.removePort(n.vm).catch(() => {});
            await this.pushPolicy(b).catch(() => {});
            throw new Error(`cannot attach VM "${this.vm(n.vm).name}" to bridge "${b.name}": hot-plugging its NIC failed: ${(err as Error).message}`);
          }
          n.plugged = true;
        }),
      );
      await this.syncGuests([...this.nicsOf({ bridge: b.id }).map((n) => n.vm)]);
    });
  }

  private async newNic(b: Bridge, vm: Vm): Promise<Nic> {
    const mine = this.nicsOf({ vm: vm.id });
    let slot = NIC_FIRST_SLOT;
    while (mine.some((n) => n.slot === slot)) slot++;
    if (slot > NIC_LAST_SLOT) throw new Error(`VM "${vm.name}" is on ${mine.length} bridges already, the most a VM can be on`);
    const same = mine.find((n) => overlaps(this.bridge(n.bridge), b));
    if (same) throw new Error(`VM "${vm.name}" cannot be on bridge "${b.name}": its subnet ${ipString(b.net)}/${b.prefix} overlaps bridge "${this.bridge(same.bridge).name}", which the VM is on; give one of them another subnet`);
    const onBridge = this.nicsOf({ bridge: b.id });
    const used = new Set(onBridge.map((n) => n.ip));
    let host = 1;
    const size = 2 ** (32 - b.prefix);
    while (used.has((b.net + host) >>> 0)) host++;
    if (host >= size - 1) throw new Error(`bridge "${b.name}" is full: subnet ${ipString(b.net)}/${b.prefix} has no free address`);
    const macs = new Set(onBridge.map((n) => n.mac));
    let mac = macFor(vm.name, b.name);
    for (let attempt = 1; macs.has(mac); attempt++) mac = macFor(vm.name, b.name, attempt);
    const socketPath = await b.sw.addPort(vm.id, mac);
    const nic: Nic = { bridge: b.id, vm: vm.id, mac, slot, ip: (b.net + host) >>> 0, attached: true, plugged: false, configured: false, socketPath };
    this.nicsByKey.set(key(b.id, vm.id), nic);
    return nic;
  }

  /**
   * Takes a VM off a bridge: its port stops carrying frames and the guest
   * sees its link go down; the other members forget its name. A VM that was
   * never started loses the NIC altogether.
   */
  detach(bridge: string, vm: string): Promise<void> {
    return this.serial(async () => {
      const b = this.bridge(bridge);
      const n = this.member(b, vm);
      if (!n.attached) return;
      const others = this.nicsOf({ bridge: b.id }).map((x) => x.vm);
      if (!n.plugged) {
        this.nicsByKey.delete(key(b.id, vm));
        forgetPort(b.impairments, vm);
        await b.sw.removePort(vm);
      } else {
        n.attached = false;
        const rt = this.vm(vm).runtime;
        if (rt) await setNicLink(rt.qmp, n.slot, false);
      }
      await this.pushPolicy(b);
      await this.syncGuests(others);
    });
  }

  // ---------------------------------------------------------------- impairments

  /** Parses `(a, b)` or `({from, to})` into the directions they name. */
  private directions(b: Bridge, args: Endpoints, what: string): Direction[] {
    let dirs: Direction[];
    if (args.length === 1) {
      const d = args[0];
      if (!d || typeof d !== 'object' || typeof d.from !== 'string' || typeof d.to !== 'string') {
        throw new Error(`bridge "${b.name}": ${what} takes two VMs or {from=, to=}`);
      }
      dirs = [{ from: d.from, to: d.to }];
    } else {
      dirs = [{ from: args[0], to: args[1] }, { from: args[1], to: args[0] }];
    }
    for (const d of dirs) {
      this.member(b, d.from);
      this.member(b, d.to);
      if (d.from === d.to) throw new Error(`bridge "${b.name}": ${what} needs two different VMs, got "${d.from}" twice`);
    }
    return dirs;
  }

  /** `partition(a, b)` cuts both directions; `partition({from, to})` only frames from → to. */
  partition(bridge: string, ...args: Endpoints): Promise<void> {
    return this.mutate(bridge, (b) => {
      for (const d of this.directions(b, args, 'partition')) addPartition(b.impairments, d);
    });
  }

  unpartition(bridge: string, ...args: Endpoints): Promise<void> {
    return this.mutate(bridge, (b) => {
      for (const d of this.directions(b, args, 'unpartition')) removePartition(b.impairments, d);
    });
  }

  /** Partitions every pair of the bridge's current members, both ways. */
  partitionAll(bridge: string): Promise<void> {
    return this.mutate(bridge, (b) => {
      const vms = this.members(b.id, true);
      for (const from of vms) for (const to of vms) if (from !== to) addPartition(b.impairments, { from, to });
    });
  }

  /** Lifts every partition and isolation (latency and drop rates stay). */
  restoreAll(bridge: string): Promise<void> {
    return this.mutate(bridge, (b) => {
      b.impairments.partitions = [];
      b.impairments.isolated = [];
    });
  }

  isolate(bridge: string, vm: string): Promise<void> {
    return this.mutate(bridge, (b) => setIsolated(b.impairments, this.member(b, vm).vm, true));
  }

  unisolate(bridge: string, vm: string): Promise<void> {
    return this.mutate(bridge, (b) => setIsolated(b.impairments, this.member(b, vm).vm, false));
  }

  /** One-way delay in ms for every frame (`ms`) or for frames from → to (either may be left out). 0 removes it. */
  addLatency(bridge: string, spec: number | { from?: string; to?: string; ms: number }): Promise<void> {
    return this.mutate(bridge, (b) => {
      const rule = typeof spec === 'number' ? { ms: spec } : spec;
      if (typeof rule.ms !== 'number' || !Number.isFinite(rule.ms) || rule.ms < 0 || rule.ms > 60_000) {
        throw new Error(`bridge "${b.name}": add_latency takes milliseconds from 0 to 60000, got ${JSON.stringify(rule.ms)}`);
      }
      this.checkEnds(b, rule);
      setLatency(b.impairments, rule);
    });
  }

  /** Probability from 0 to 1 that a frame (or a frame from → to) is lost. 0 removes it. */
  dropRate(bridge: string, spec: number | { from?: string; to?: string; p: number }): Promise<void> {
    return this.mutate(bridge, (b) => {
      const rule = typeof spec === 'number' ? { p: spec } : spec;
      if (typeof rule.p !== 'number' || !(rule.p >= 0 && rule.p <= 1)) {
        throw new Error(`bridge "${b.name}": drop_rate takes a probability from 0 to 1, got ${JSON.stringify(rule.p)}`);
      }
      this.checkEnds(b, rule);
      setDrop(b.impairments, rule);
    });
  }

  /** Clears every impairment of the bridge (attachments stay as they are). */
  /** Replaces a bridge's impairments with `imp` (a lab restored in place goes back to its snapshot's). */
  setImpairments(bridge: string, imp: Impairments): Promise<void> {
    return this.mutate(bridge, (b) => {
      b.impairments = cloneImpairments(imp);
    });
  }

  reset(bridge: string): Promise<void> {
    return this.mutate(bridge, (b) => {
      b.impairments = emptyImpairments();
    });
  }

  private checkEnds(b: Bridge, r: { from?: string; to?: string }): void {
    if (r.from !== undefined) this.member(b, r.from);
    if (r.to !== undefined) this.member(b, r.to);
  }

  private mutate(bridge: string, change: (b: Bridge) => void): Promise<void> {
    return this.serial(async () => {
      const b = this.bridge(bridge);
      const before = cloneImpairments(b.impairments);
      try {
        change(b);
      } catch (err) {
        b.impairments = before;
        throw err;
      }
      await this.pushPolicy(b);
    });
  }

  private async pushPolicy(b: Bridge): Promise<void> {
    const policy: SwitchPolicy = {
      ...cloneImpairments(b.impairments),
      detached: this.nicsOf({ bridge: b.id, attached: false }).map((n) => n.vm),
      seed: b.seed,
    };
    await b.sw.setPolicy(policy);
  }

  /** The NIC's traffic as the switch saw it (tx: sent by the VM; rx: delivered to it). */
  counters(bridge: string, vm: string): Promise<PortCounters> {
    const b = this.bridge(bridge);
    this.member(b, vm);
    return b.sw.counters(vm);
  }

  // ---------------------------------------------------------------- VM lifecycle

  /** The `-netdev`/`-device` arguments of every NIC of the VM, for its launch (boot or restore). */
  launchArgs(vm: string): string[] {
    return this.nicsOf({ vm }).flatMap((n) => coldNicArgs({ slot: n.slot, mac: n.mac, socketPath: n.socketPath }));
  }

  /**
   * The VM's QEMU runs (launched with launchArgs) and its agent answers.
   * After a boot the guest's NICs are configured now; after a restore
   * (`restored`) the guest has its configuration already.
   */
  vmStarted(vm: string, runtime: VmRuntime, opts: { restored?: boolean } = {}): Promise<void> {
    return this.serial(async () => {
      if (!this.vmsById.has(vm)) this.addVm(vm); // on no bridge yet: attach() may hot-plug it later
      const v = this.vm(vm);
      v.runtime = runtime;
      for (const n of this.nicsOf({ vm })) {
        n.plugged = true;
        if (!opts.restored) n.configured = false;
      }
      for (const n of this.nicsOf({ vm, attached: false })) await setNicLink(runtime.qmp, n.slot, false);
      await this.syncGuests([vm]);
    });
  }

  /** The VM's QEMU is gone (shut down, killed): the network stops talking to it. */
  vmStopped(vm: string): void {
    const v = this.vmsById.get(vm);
    if (v) v.runtime = undefined;
  }

  /** Writes the guest side (addresses, neighbours, hosts) into every running VM of `vms`. */
  private async syncGuests(vms: string[]): Promise<void> {
    await Promise.all([...new Set(vms)].map((id) => this.syncGuest(id)));
  }

  private async syncGuest(id: string): Promise<void> {
    const v = this.vmsById.get(id);
    if (!v?.runtime) return;
    const cfg: GuestNetConfig = { configure: [], neighbors: [], hosts: [] };
    const mine = this.nicsOf({ vm: id }).filter((n) => n.plugged);
    for (const n of mine) {
      if (!n.configured) cfg.configure.push({ mac: n.mac, ip: ipString(n.ip), prefix: this.bridge(n.bridge).prefix });
    }
    for (const n of mine.filter((x) => x.attached)) {
      const b = this.bridge(n.bridge);
      for (const m of this.nicsOf({ bridge: b.id, attached: true })) {
        if (m.vm !== id) cfg.neighbors.push({ on: n.mac, ip: ipString(m.ip), mac: m.mac });
        cfg.hosts.push({ ip: ipString(m.ip), name: `${this.vm(m.vm).name}.${b.name}` });
      }
    }
    await applyGuestConfig(v.runtime.agent, cfg, `VM "${v.name}"`);
    for (const n of mine) n.configured = true;
  }

  // ---------------------------------------------------------------- state

  /**
   * Plain data for lab.json. With `vms`, only those VMs, their NICs and the
   * bridges they are on (plus `bridges`); default everything.
   */
  state(filter: { vms?: string[]; bridges?: string[] } = {}): NetworkState {
    const vmIds = filter.vms ? new Set(filter.vms) : new Set(this.vmsById.keys());
    const bridgeIds = new Set(filter.bridges ?? (filter.vms ? [] : this.bridgesById.keys()));
    for (const id of vmIds) this.vm(id);
    for (const n of this.nicsByKey.values()) if (vmIds.has(n.vm)) bridgeIds.add(n.bridge);
    const bridges = [...bridgeIds].map((id) => this.bridge(id));
    return {
      version: 1,
      bridges: bridges.map((b) => ({ id: b.id, name: b.name, subnet: `${ipString(b.net)}/${b.prefix}`, seed: b.seed, impairments: cloneImpairments(b.impairments) })),
      vms: [...vmIds].map((id) => ({ id, name: this.vm(id).name })),
      nics: [...this.nicsByKey.values()]
        .filter((n) => vmIds.has(n.vm) && bridgeIds.has(n.bridge))
        .sort((a, b) => (a.vm < b.vm ? -1 : a.vm > b.vm ? 1 : a.slot - b.slot))
        .map((n) => ({ bridge: n.bridge, vm: n.vm, mac: n.mac, slot: n.slot, address: ipString(n.ip), attached: n.attached, configured: n.configured })),
    };
  }

  /**
   * Adds the bridges, VMs and NICs of `state` (a restored lab inside this
   * network), each bridge on a new private switch with its impairments.
   * `rename` maps the state's ids to ids in this network (default: unchanged).
   */
  importState(state: NetworkState, rename: { vm?: (id: string) => string; bridge?: (id: string) => string } = {}): Promise<void> {
    return this.serial(async () => {
      checkState(state);
      const vmId = rename.vm ?? ((id: string) => id);
      const brId = rename.bridge ?? ((id: string) => id);
      for (const v of state.vms) if (this.vmsById.has(vmId(v.id))) throw new Error(`cannot restore the network: VM "${vmId(v.id)}" is in this network already`);
      for (const b of state.bridges) if (this.bridgesById.has(brId(b.id))) throw new Error(`cannot restore the network: bridge "${brId(b.id)}" exists already`);
      for (const v of state.vms) this.addVm(vmId(v.id), { name: v.name });
      const rem = (i: Impairments): Impairments => ({
        partitions: i.partitions.map((d) => ({ from: vmId(d.from), to: vmId(d.to) })),
        isolated: i.isolated.map(vmId),
        latency: i.latency.map((r) => ({ ...r, ...(r.from !== undefined ? { from: vmId(r.from) } : {}), ...(r.to !== undefined ? { to: vmId(r.to) } : {}) })),
        drop: i.drop.map((r) => ({ ...r, ...(r.from !== undefined ? { from: vmId(r.from) } : {}), ...(r.to !== undefined ? { to: vmId(r.to) } : {}) })),
      });
      for (const sb of state.bridges) {
        const { net, prefix } = parseSubnet(sb.subnet, `bridge "${sb.name}" of the restored network`);
        const b = await this.createBridge({ id: brId(sb.id), name: sb.name, net, prefix, seed: sb.seed, impairments: emptyImpairments() });
        for (const sn of state.nics.filter((n) => n.bridge === sb.id)) {
          const vm = vmId(sn.vm);
          const socketPath = await b.sw.addPort(vm, sn.mac);
          this.nicsByKey.set(key(b.id, vm), {
            bridge: b.id, vm, mac: sn.mac, slot: sn.slot, ip: parseIp(sn.address)!, attached: sn.attached, plugged: false, configured: sn.configured, socketPath,
          });
        }
        b.impairments = rem(sb.impairments);
        await this.pushPolicy(b);
      }
    });
  }

  /**
   * Closes the switches of this network (its VMs lose their links). Does not
   * wait for an operation in flight (a guest that never answers must not hold
   * up the end of a file): that one fails. Idempotent.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const all = [...this.bridgesById.values()];
    this.bridgesById.clear();
    await Promise.all(all.map((b) => b.sw.close().catch(() => {})));
  }
}

function overlaps(a: { net: number; prefix: number }, b: { net: number; prefix: number }): boolean {
  const p = Math.min(a.prefix, b.prefix);
  return (a.net & mask(p)) >>> 0 === (b.net & mask(p)) >>> 0;
}

/** Throws naming what is wrong with a state read back from lab.json. */
export function checkState(state: NetworkState): void {
  const bad = (msg: string): never => {
    throw new Error(`network state in lab.json: ${msg}`);
  };
  if (!state || typeof state !== 'object') bad('not an object');
  if (state.version !== 1) bad(`unknown version ${JSON.stringify(state.version)} (this Provium reads version 1)`);
  if (!Array.isArray(state.bridges) || !Array.isArray(state.vms) || !Array.isArray(state.nics)) bad('bridges, vms and nics must be lists');
  const vms = new Set<string>();
  for (const v of state.vms) {
    if (typeof v?.id !== 'string' || typeof v.name !== 'string') bad(`VM entry ${JSON.stringify(v)} needs id and name`);
    if (vms.has(v.id)) bad(`VM "${v.id}" appears twice`);
    vms.add(v.id);
  }
  const bridges = new Set<string>();
  for (const b of state.bridges) {
    if (typeof b?.id !== 'string' || typeof b.name !== 'string' || typeof b.subnet !== 'string' || !Number.isInteger(b.seed) || typeof b.impairments !== 'object') {
      bad(`bridge entry ${JSON.stringify(b)} needs id, name, subnet, seed and impairments`);
    }
    if (bridges.has(b.id)) bad(`bridge "${b.id}" appears twice`);
    bridges.add(b.id);
    const i = b.impairments;
    if (!Array.isArray(i.partitions) || !Array.isArray(i.isolated) || !Array.isArray(i.latency) || !Array.isArray(i.drop)) {
      bad(`bridge "${b.id}": impairments need partitions, isolated, latency and drop lists`);
    }
  }
  const slots = new Set<string>();
  for (const n of state.nics) {
    if (!bridges.has(n?.bridge)) bad(`NIC ${JSON.stringify(n)} names an unknown bridge`);
    if (!vms.has(n.vm)) bad(`NIC ${JSON.stringify(n)} names an unknown VM`);
    if (!/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(n.mac)) bad(`NIC of "${n.vm}" on "${n.bridge}" has a bad MAC ${JSON.stringify(n.mac)}`);
    if (!Number.isInteger(n.slot) || n.slot < NIC_FIRST_SLOT || n.slot > NIC_LAST_SLOT) bad(`NIC of "${n.vm}" on "${n.bridge}" has a bad PCI slot ${n.slot}`);
    if (parseIp(n.address) === undefined) bad(`NIC of "${n.vm}" on "${n.bridge}" has a bad address ${JSON.stringify(n.address)}`);
    if (slots.has(`${n.vm}\0${n.slot}`)) bad(`VM "${n.vm}" has two NICs in PCI slot ${n.slot}`);
    slots.add(`${n.vm}\0${n.slot}`);
    if (typeof n.attached !== 'boolean' || typeof n.configured !== 'boolean') bad(`NIC of "${n.vm}" on "${n.bridge}" needs attached and configured flags`);
  }
}
