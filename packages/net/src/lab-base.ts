/**
 * What every LabNetwork operation stands on: the bridges, VMs and NICs with
 * their lookups (errors name what exists), the one-at-a-time queue, and the
 * impairments of each bridge, pushed to its switch as a policy, and the
 * guest side of the bridges (addresses, neighbours, /etc/hosts). The VM and
 * NIC side (attach, launch, restore, uplink) is lab.ts.
 */
import type { SwitchBackend, SwitchHandle } from './backend.js';
import { applyGuestConfig, guestDigest, type GuestAgentLike, type GuestNetConfig } from './guest.js';
import {
  addPartition, cloneImpairments, emptyImpairments, removePartition, setDrop, setIsolated, setLatency,
  type Direction, type Impairments, type SwitchPolicy,
} from './impairments.js';
import type { NicRecord } from './nic-records.js';
import type { QmpLike } from './qemu-args.js';
import { ipString } from './addr.js';
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

export interface Bridge {
  id: string;
  name: string;
  /** Network address as a 32-bit number, and prefix length. */
  net: number;
  prefix: number;
  seed: number;
  impairments: Impairments;
  sw: SwitchHandle;
  /** NAT to the host's network for the VMs on it (vm-devices.ts). */
  uplink: boolean;
}

export interface Vm {
  id: string;
  name: string;
  runtime: VmRuntime | undefined;
  /** Its uplink NIC, while it is on an uplinked bridge. */
  uplink: Uplink | undefined;
  /** NICs of its QEMU restored from a snapshot and connected to nothing. */
  parked: Parked[];
  /** restoreArgs() has decided which devices the next QEMU is launched with (the others are hot-plugged once it runs). */
  planned: boolean;
  /**
   * What the guest's neighbour table and hosts block hold, as guestDigest()
   * of the configuration last written (undefined: unknown, e.g. a fresh boot).
   * A snapshot records it, so a restored guest that has its lab's
   * configuration already is not sent it again.
   */
  guestDigest: string | undefined;
}

/** A VM's NIC on QEMU's user-mode network (qemu-devices.ts). */
export interface Uplink {
  mac: string;
  /** The device exists in the VM's QEMU (launched with it or hot-plugged). */
  plugged: boolean;
  /** The guest has its address, default route and nameserver. */
  configured: boolean;
  /** A parked NIC connected through its hub: unplugging it removes the hub's netdevs too. */
  viaHub: boolean;
  /** The link as last set (undefined after a restore: the device's state decides). */
  linkUp: boolean | undefined;
}

/** A NIC device restored from a snapshot whose network is not here: connected to nothing, its link down. */
export interface Parked extends NicRecord {
  /** Its settings in the guest go once it runs (an uplink NIC's route and nameserver; a bridge NIC's addresses, when another NIC took its bridge). */
  scrub: boolean;
}

export interface Nic {
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
  /** A parked NIC this one reuses (same slot and MAC): connected through its hub once attach() runs. */
  unpark?: Parked;
}

export type Endpoints = [string, string] | [Direction];

export const key = (bridge: string, vm: string) => `${bridge}\0${vm}`;

export abstract class LabBase {
  protected readonly bridgesById = new Map<string, Bridge>();
  protected readonly vmsById = new Map<string, Vm>();
  protected readonly nicsByKey = new Map<string, Nic>();
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(protected readonly backend: SwitchBackend) {}

  /** Operations run one at a time, in call order. */
  protected serial<T>(op: () => Promise<T>): Promise<T> {
    const run = this.queue.then(() => {
      if (this.closed) throw new Error('lab network closed');
      return op();
    });
    this.queue = run.catch(() => {});
    return run;
  }

  // ---------------------------------------------------------------- lookups

  protected bridge(id: string): Bridge {
    const b = this.bridgesById.get(id);
    if (!b) throw new Error(`no bridge "${id}"${this.bridgesById.size ? ` (bridges: ${[...this.bridgesById.keys()].join(', ')})` : ''}`);
    return b;
  }

  protected vm(id: string): Vm {
    const v = this.vmsById.get(id);
    if (!v) throw new Error(`no VM "${id}" in this network`);
    return v;
  }

  protected nicsOf(filter: { bridge?: string; vm?: string; attached?: boolean }): Nic[] {
    return [...this.nicsByKey.values()]
      .filter((n) => (filter.bridge === undefined || n.bridge === filter.bridge) && (filter.vm === undefined || n.vm === filter.vm) && (filter.attached === undefined || n.attached === filter.attached))
      .sort((a, b) => a.slot - b.slot || (a.vm < b.vm ? -1 : 1));
  }

  /** The NIC of `vm` on `bridge`; the error names the bridge's members. */
  protected member(b: Bridge, vm: string): Nic {
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

  protected info(n: Nic): NicInfo {
    const b = this.bridge(n.bridge);
    return { bridge: n.bridge, vm: n.vm, mac: n.mac, slot: n.slot, address: ipString(n.ip), prefix: b.prefix, attached: n.attached, plugged: n.plugged };
  }

  protected async createBridge(b: Omit<Bridge, 'sw'>): Promise<Bridge> {
    const sw = await this.backend.createSwitch({ name: b.name, seed: b.seed });
    const bridge: Bridge = { ...b, sw };
    this.bridgesById.set(b.id, bridge);
    await this.pushPolicy(bridge);
    return bridge;
  }

  // ---------------------------------------------------------------- impairments

  /** Parses `(a, b)` or `({from, to})` into the directions they name. */
  protected directions(b: Bridge, args: Endpoints, what: string, attachedOneWay = false): Direction[] {
    let dirs: Direction[];
    if (args.length === 1) {
      const d = args[0];
      if (!d || typeof d !== 'object' || typeof d.from !== 'string' || typeof d.to !== 'string') {
        throw new Error(`bridge "${b.name}": ${what} takes two VMs or {from=, to=}`);
      }
      dirs = [{ from: d.from, to: d.to }];
      const on = new Set(this.members(b.id));
      for (const end of attachedOneWay ? [d.from, d.to] : []) {
        if (!on.has(end)) throw new Error(`bridge "${b.name}": VM "${end}" is not attached to it; attach it first (a one-way ${what} needs both ends attached)`);
      }
    } else {
      dirs = [{ from: args[0], to: args[1] }, { from: args[1], to: args[0] }];
    }
    // Not checked against the members: a pair partition is graph state that holds once both are attached (the original's).
    for (const d of dirs) {
      if (d.from === d.to) throw new Error(`bridge "${b.name}": ${what} needs two different VMs, got "${d.from}" twice`);
    }
    return dirs;
  }

  /** `partition(a, b)` cuts both directions; `partition({from, to})` only frames from → to. */
  partition(bridge: string, ...args: Endpoints): Promise<void> {
    return this.mutate(bridge, (b) => {
      for (const d of this.directions(b, args, 'partition', true)) addPartition(b.impairments, d);
    });
  }

  unpartition(bridge: string, ...args: Endpoints): Promise<void> {
    return this.mutate(bridge, (b) => {
      for (const d of this.directions(b, args, 'unpartition')) removePartition(b.impairments, d);
    });
  }

  /** Sets the bridge-wide cut flag: every pair is cut, members that join later too. */
  partitionAll(bridge: string): Promise<void> {
    return this.mutate(bridge, (b) => {
      b.impairments.cutAll = true;
    });
  }

  /** Clears the cut flag only: pair and one-way partitions, isolation, latency and drop rates stay. */
  restoreAll(bridge: string): Promise<void> {
    return this.mutate(bridge, (b) => {
      delete b.impairments.cutAll;
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

  /** Replaces a bridge's impairments with `imp` (a lab restored in place goes back to its snapshot's). */
  setImpairments(bridge: string, imp: Impairments): Promise<void> {
    return this.mutate(bridge, (b) => {
      b.impairments = cloneImpairments(imp);
    });
  }

  /** Clears every impairment of the bridge but isolation (the sheet's reset; attachments stay as they are). */
  reset(bridge: string): Promise<void> {
    return this.mutate(bridge, (b) => {
      b.impairments = { ...emptyImpairments(), isolated: b.impairments.isolated };
    });
  }

  protected checkEnds(b: Bridge, r: { from?: string; to?: string }): void {
    if (r.from !== undefined) this.member(b, r.from);
    if (r.to !== undefined) this.member(b, r.to);
  }

  protected mutate(bridge: string, change: (b: Bridge) => void): Promise<void> {
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

  protected async pushPolicy(b: Bridge): Promise<void> {
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

  /** Writes the guest side (addresses, neighbours, hosts) into every running VM of `vms`. */
  protected async syncGuests(vms: string[]): Promise<void> {
    await Promise.all([...new Set(vms)].map((id) => this.syncGuest(id)));
  }

  protected async syncGuest(id: string): Promise<void> {
    const v = this.vmsById.get(id);
    if (!v?.runtime) return;
    const cfg: GuestNetConfig = { configure: [], neighbors: [], hosts: [] };
    const mine = this.nicsOf({ vm: id }).filter((n) => n.plugged);
    const scrub = v.parked.filter((p) => p.scrub && !p.uplink);
    cfg.unconfigure = scrub.map((p) => p.mac);
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
    const digest = guestDigest(cfg);
    // A restored guest has the configuration of its snapshot: running the same script again changes nothing.
    if (cfg.configure.length > 0 || scrub.length > 0 || digest !== v.guestDigest) {
      v.guestDigest = undefined; // unknown while the script runs (it may fail half-way)
      await applyGuestConfig(v.runtime.agent, cfg, `VM "${v.name}"`);
      v.guestDigest = digest;
    }
    for (const n of mine) n.configured = true;
    for (const p of scrub) p.scrub = false;
  }

  /** Empties this network for adopt() (lab-state.ts): the adopter owns its switches now; this one is closed. */
  protected handOver(): { bridges: Bridge[]; vms: Vm[]; nics: Nic[] } {
    this.closed = true;
    const out = { bridges: [...this.bridgesById.values()], vms: [...this.vmsById.values()], nics: [...this.nicsByKey.values()] };
    this.bridgesById.clear();
    this.vmsById.clear();
    this.nicsByKey.clear();
    return out;
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
