/**
 * A lab network as data and between networks: VMs registered by id and
 * name, state() (plain data for lab.json), importState() (a restored lab's
 * network on new private switches) and adopt() (a network built ahead of
 * time taken over whole, switches and all). The bridges' and VMs' live side
 * is lab.ts.
 */
import { ipString, parseIp, parseSubnet } from './addr.js';
import { isHostName } from './guest.js';
import { cloneImpairments, emptyImpairments, type Impairments } from './impairments.js';
import { LabBase, key } from './lab-base.js';
import { checkState, type NetworkState } from './state.js';

export abstract class LabState extends LabBase {
  /** Registers a VM (its host name defaults to its id). attach() registers unknown VMs itself. */
  addVm(id: string, opts: { name?: string } = {}): void {
    const name = opts.name ?? id;
    if (!isHostName(name)) throw new Error(`VM name "${name}" cannot be a host name on a bridge (letters, digits, '_', '-', '.')`);
    const v = this.vmsById.get(id);
    if (v) {
      if (v.name !== name) throw new Error(`VM "${id}" is already in this network as "${v.name}"`);
      return;
    }
    this.vmsById.set(id, { id, name, runtime: undefined, uplink: undefined, parked: [], planned: false, guestDigest: undefined });
  }

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
      bridges: bridges.map((b) => ({
        id: b.id, name: b.name, subnet: `${ipString(b.net)}/${b.prefix}`, seed: b.seed, impairments: cloneImpairments(b.impairments), ...(b.uplink ? { uplink: true } : {}),
      })),
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
        ...(i.cutAll ? { cutAll: true as const } : {}),
      });
      for (const sb of state.bridges) {
        const { net, prefix } = parseSubnet(sb.subnet, `bridge "${sb.name}" of the restored network`);
        const b = await this.createBridge({ id: brId(sb.id), name: sb.name, net, prefix, seed: sb.seed, impairments: emptyImpairments(), uplink: sb.uplink === true });
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
   * Takes over every bridge (with its switch, whatever backend made it), VM
   * and NIC of `other`, which is closed and empty afterwards: a lab restored
   * ahead of time on switches of its own joins the network it is taken into.
   * Their ids must be new to this network.
   */
  adopt(other: LabState): Promise<void> {
    return this.serial(async () => {
      const moved = await other.serial(async () => {
        for (const id of other.vmsById.keys()) if (this.vmsById.has(id)) throw new Error(`cannot adopt the network: VM "${id}" is in this network already`);
        for (const id of other.bridgesById.keys()) if (this.bridgesById.has(id)) throw new Error(`cannot adopt the network: bridge "${id}" exists already`);
        return other.handOver();
      });
      for (const b of moved.bridges) this.bridgesById.set(b.id, b);
      for (const v of moved.vms) this.vmsById.set(v.id, v);
      for (const n of moved.nics) this.nicsByKey.set(key(n.bridge, n.vm), n);
    });
  }
}
