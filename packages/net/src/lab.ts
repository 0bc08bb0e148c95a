/**
 * The networks of a lab (or of a whole test file): bridges, which VM is on
 * which bridge with which NIC (MAC, PCI slot, address), the impairments of
 * each bridge, the uplink of each bridge (NAT to the host's network), and
 * the glue to QEMU (launch arguments, hot-plug, the devices of a restored
 * snapshot) and to the guests (addresses, /etc/hosts, default route). Its
 * state as data, and networks moved between labs, are lab-state.ts;
 * LabNetwork.restore() re-creates a state on fresh private switches.
 *
 * VMs and bridges are known by ids the caller chooses (unique in this
 * network); their `name`s make the guests' host names, `<vm>.<bridge>`.
 */
import { createHash } from 'node:crypto';
import { ipString, overlaps, parseSubnet } from './addr.js';
import type { CaptureControl, SwitchBackend } from './backend.js';
import type { CaptureSink } from './capture.js';
import type { PortCounters } from './switch.js';
import { isHostName } from './guest.js';
import { emptyImpairments, forgetPort } from './impairments.js';
import { key, type Bridge, type BridgeOptions, type Nic, type Vm, type VmRuntime } from './lab-base.js';
import { LabState } from './lab-state.js';
import type { NicRecord } from './nic-records.js';
import { coldNicArgs, hotplugNic, macFor, setNicLink } from './qemu-args.js';
import { UPLINK_NET, connectParked, vmRunning } from './qemu-devices.js';
import { seedFrom } from './rng.js';
import type { NetworkState } from './state.js';
import { deviceRecords, extraLaunchArgs, freeSlot, planRestore, syncUplink, uplinkForLaunch, type UplinkWant } from './vm-devices.js';

const UPLINK_SUBNET = parseSubnet(UPLINK_NET, 'the uplink');

export type { BridgeOptions, Endpoints, NicInfo, VmRuntime } from './lab-base.js';

export interface LabNetworkOptions {
  /** How long a guest may take to let go of an unplugged NIC (the uplink's). Default 30 s. */
  unplugTimeoutMs?: number;
}

export class LabNetwork extends LabState {
  constructor(
    backend: SwitchBackend,
    private readonly opts: LabNetworkOptions = {},
  ) {
    super(backend);
  }

  /** A network re-created from state(): same bridges, NICs and impairments, on new private switches. */
  static async restore(state: NetworkState, backend: SwitchBackend, opts: LabNetworkOptions = {}): Promise<LabNetwork> {
    const net = new LabNetwork(backend, opts);
    try {
      await net.importState(state);
    } catch (err) {
      await net.close();
      throw err;
    }
    return net;
  }

  // ---------------------------------------------------------------- building

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
      await this.createBridge({ id, name, ...subnet, seed, impairments: emptyImpairments(), uplink: false });
    });
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
        for (const n of created) await this.forgetNic(b, n);
        throw err;
      }
      for (const n of created) if (n.unpark) this.vm(n.vm).parked = this.vm(n.vm).parked.filter((p) => p !== n.unpark);
      for (const n of changed) n.attached = true;
      if (changed.length === 0) return;
      await this.pushPolicy(b);
      await Promise.all(
        changed.map(async (n) => {
          const rt = this.vm(n.vm).runtime;
          if (!rt) return;
          if (n.plugged && !n.unpark) {
            await setNicLink(rt.qmp, n.slot, true);
            return;
          }
          try {
            if (n.unpark) await connectParked(rt.qmp, n.slot, { socketPath: n.socketPath });
            else await hotplugNic(rt.qmp, { slot: n.slot, mac: n.mac, socketPath: n.socketPath });
          } catch (err) {
            // QEMU refused the device or the netdev: the VM is not on the bridge after all.
            await this.forgetNic(b, n);
            await this.pushPolicy(b).catch(() => {});
            throw new Error(`cannot attach VM "${this.vm(n.vm).name}" to bridge "${b.name}": ${n.unpark ? 'connecting its parked NIC' : 'hot-plugging its NIC'} failed: ${(err as Error).message}`);
          }
          if (n.unpark) await setNicLink(rt.qmp, n.slot, true);
          n.unpark = undefined;
          n.plugged = true;
        }),
      );
      await this.syncGuests([...this.nicsOf({ bridge: b.id }).map((n) => n.vm)]);
      for (const n of changed) await this.syncUplinkOf(n.vm, `attaching it to bridge "${b.name}"`);
    });
  }

  /** Takes back a NIC that attach() made and could not finish (a reused parked NIC stays parked). */
  private async forgetNic(b: Bridge, n: Nic): Promise<void> {
    this.nicsByKey.delete(key(b.id, n.vm));
    const v = this.vm(n.vm);
    if (n.unpark && !v.parked.includes(n.unpark)) v.parked.push(n.unpark);
    await b.sw.removePort(n.vm).catch(() => {});
  }

  /**
   * A NIC of `vm` on `b`: a new device in the lowest free slot, or the VM's
   * parked NIC made for a bridge of that name (same slot and MAC), unless
   * another member has its MAC (the VM it was snapshotted from); then that
   * parked NIC loses its addresses in the guest, which could shadow the new
   * NIC's subnet.
   */
  private async newNic(b: Bridge, vm: Vm): Promise<Nic> {
    const mine = this.nicsOf({ vm: vm.id });
    if ((b.uplink || this.uplinkWant(vm.id).present) && overlaps(b, UPLINK_SUBNET)) throw this.uplinkClash(vm, b);
    const same = mine.find((n) => overlaps(this.bridge(n.bridge), b));
    if (same) throw new Error(`VM "${vm.name}" cannot be on bridge "${b.name}": its subnet ${ipString(b.net)}/${b.prefix} overlaps bridge "${this.bridge(same.bridge).name}", which the VM is on; give one of them another subnet`);
    const onBridge = this.nicsOf({ bridge: b.id });
    const used = new Set(onBridge.map((n) => n.ip));
    let host = 1;
    const size = 2 ** (32 - b.prefix);
    while (used.has((b.net + host) >>> 0)) host++;
    if (host >= size - 1) throw new Error(`bridge "${b.name}" is full: subnet ${ipString(b.net)}/${b.prefix} has no free address`);
    const macs = new Set(onBridge.map((n) => n.mac));
    const parked = vm.runtime ? vm.parked.filter((p) => !p.uplink && p.bridge === b.name) : [];
    const unpark = parked.find((p) => !macs.has(p.mac));
    for (const p of parked) if (p !== unpark) p.scrub = true;
    const slot = unpark?.slot ?? freeSlot(vm, mine);
    // Nor the MAC of one of the VM's own parked devices (a NIC left by a bridge of this name that is gone).
    const taken = new Set([...macs, ...vm.parked.filter((p) => p !== unpark).map((p) => p.mac)]);
    let mac = unpark?.mac ?? macFor(vm.name, b.name);
    for (let attempt = 1; taken.has(mac); attempt++) mac = macFor(vm.name, b.name, attempt);
    const socketPath = await b.sw.addPort(vm.id, mac);
    const nic: Nic = { bridge: b.id, vm: vm.id, mac, slot, ip: (b.net + host) >>> 0, attached: true, plugged: unpark !== undefined, configured: false, socketPath, unpark };
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
      await this.syncUplinkOf(vm, `detaching it from bridge "${b.name}"`);
    });
  }

  /**
   * Tears a bridge down (the test that made it ended): its uplink goes, its
   * switch closes, and the NIC of each VM that still runs stays in its slot
   * parked (link down, its address removed in the guest, never taken again
   * by a new bridge), so the VM's devices still match its snapshots. A VM
   * not running loses the NIC. Its members forget their names on it. The VMs
   * in `ending` go away right after (the test's own, at its end): their
   * guests and NICs are left as they are.
   */
  removeBridge(id: string, ending: readonly string[] = []): Promise<void> {
    return this.serial(async () => {
      const b = this.bridgesById.get(id);
      if (!b) return;
      const gone = new Set(ending);
      const nics = this.nicsOf({ bridge: id });
      const staying = nics.filter((n) => !gone.has(n.vm));
      if (b.uplink) {
        b.uplink = false;
        for (const n of staying) await this.syncUplinkOf(n.vm, `removing bridge "${b.name}"`);
      }
      for (const n of nics) {
        this.nicsByKey.delete(key(id, n.vm));
        const v = this.vm(n.vm);
        if (!n.plugged || !v.runtime || gone.has(n.vm)) continue;
        v.parked.push({ slot: n.slot, mac: n.mac, scrub: true });
        await setNicLink(v.runtime.qmp, n.slot, false).catch(() => {}); // a VM that is going away
      }
      this.bridgesById.delete(id);
      await b.sw.close();
      // Paused guests cannot answer: they catch up at their next change (the scrub stays pending).
      const running: string[] = [];
      for (const n of staying) {
        const rt = this.vm(n.vm).runtime;
        if (rt && (await vmRunning(rt.qmp).catch(() => false))) running.push(n.vm);
      }
      await this.syncGuests(running);
    });
  }

  // ---------------------------------------------------------------- what the switches saw

  /** The NIC's traffic as the switch saw it (tx: sent by the VM; rx: delivered to it). */
  counters(bridge: string, vm: string): Promise<PortCounters> {
    const b = this.bridge(bridge);
    this.member(b, vm);
    return b.sw.counters(vm);
  }

  /** Starts a packet capture of the bridge, or of one member's NIC on it (capture.ts). */
  capture(bridge: string, vm: string | undefined, sink: CaptureSink): Promise<CaptureControl> {
    const b = this.bridge(bridge);
    if (vm !== undefined) this.member(b, vm);
    return b.sw.capture(vm, sink);
  }

  // ---------------------------------------------------------------- VM lifecycle

  /**
   * The `-netdev`/`-device` arguments of every NIC of the VM (its uplink NIC
   * included), for a boot, or a restore of a snapshot that has them all.
   */
  launchArgs(vm: string): string[] {
    const v = this.vmsById.get(vm);
    if (v && !v.runtime) uplinkForLaunch(v, this.uplinkWant(vm));
    return [...this.nicsOf({ vm }).flatMap((n) => coldNicArgs(n)), ...(v ? extraLaunchArgs(v, true) : [])];
  }

  /**
   * The arguments for restoring the VM from a snapshot whose NIC devices are
   * `recorded`: the same devices in the same slots, each on its bridge, the
   * user-mode network or parked (vm-devices.ts). NICs the snapshot lacks are
   * hot-plugged by vmStarted(). `guestDigest`: what the snapshot recorded of
   * the guest's configuration (guestDigestOf()), if it did.
   */
  restoreArgs(vm: string, recorded: NicRecord[], guestDigest?: string): string[] {
    if (!this.vmsById.has(vm)) this.addVm(vm);
    const v = this.vm(vm);
    v.runtime = undefined;
    v.guestDigest = guestDigest;
    const cold = planRestore(v, this.nicsOf({ vm }), recorded, this.uplinkWant(vm));
    return [...cold.flatMap((n) => coldNicArgs(n)), ...extraLaunchArgs(v, v.uplink?.plugged === true)];
  }

  /**
   * The VM's QEMU runs (launched with launchArgs or restoreArgs) and its
   * agent answers. After a boot the guest's NICs are configured now; after a
   * restore (`restored`) the guest has its configuration already. NICs it
   * was not launched with are hot-plugged; detached and parked ones get
   * their link down.
   */
  vmStarted(vm: string, runtime: VmRuntime, opts: { restored?: boolean } = {}): Promise<void> {
    return this.serial(async () => {
      if (!this.vmsById.has(vm)) this.addVm(vm); // on no bridge yet: attach() may hot-plug it later
      const v = this.vm(vm);
      v.runtime = runtime;
      const mine = this.nicsOf({ vm });
      if (!v.planned) {
        for (const n of mine) n.plugged = true;
        if (v.uplink) Object.assign(v.uplink, { plugged: true, linkUp: opts.restored ? undefined : true });
      }
      v.planned = false;
      if (!opts.restored) {
        v.guestDigest = undefined;
        for (const n of mine) n.configured = false;
        if (v.uplink) v.uplink.configured = false;
      }
      for (const n of mine.filter((x) => !x.plugged)) {
        await hotplugNic(runtime.qmp, n).catch((err: Error) => {
          throw new Error(`VM "${v.name}": hot-plugging its NIC on bridge "${this.bridge(n.bridge).name}", which its snapshot did not have, failed: ${err.message}`);
        });
        Object.assign(n, { plugged: true, configured: false });
      }
      for (const slot of [...mine.filter((n) => !n.attached).map((n) => n.slot), ...v.parked.map((p) => p.slot)]) await setNicLink(runtime.qmp, slot, false);
      await this.syncGuests([vm]);
      await syncUplink(v, this.uplinkWant(vm), 'starting', this.unplugTimeoutMs);
    });
  }

  /** The VM's QEMU is gone (shut down, killed): the network stops talking to it. */
  vmStopped(vm: string): void {
    const v = this.vmsById.get(vm);
    if (v) v.runtime = undefined;
  }

  /** What the VM's guest holds of its lab's configuration, for its snapshot (restoreArgs() takes it back). */
  guestDigestOf(vm: string): string | undefined {
    return this.vmsById.get(vm)?.guestDigest;
  }

  /** The VM's NIC devices as its snapshot records them (what restoreArgs() takes back). */
  devices(vm: string): NicRecord[] {
    const v = this.vmsById.get(vm);
    return v ? deviceRecords(v, this.nicsOf({ vm }), (id) => this.bridge(id).name) : [];
  }

  // ---------------------------------------------------------------- uplink

  /**
   * Turns NAT to the host's network on or off for the bridge's VMs: each gets
   * (or loses) its uplink NIC, hot-plugged into running ones, with a default
   * route and nameserver in the guest. `except`: VMs left alone (a lab
   * restored in place restores them next).
   */
  setUplink(bridge: string, on: boolean, opts: { except?: string[] } = {}): Promise<void> {
    return this.serial(async () => {
      const b = this.bridge(bridge);
      if (b.uplink === on) return;
      const vms = this.members(b.id, true).filter((id) => !opts.except?.includes(id));
      if (on && overlaps(b, UPLINK_SUBNET)) throw this.uplinkClash(undefined, b);
      if (on) for (const id of vms) for (const n of this.nicsOf({ vm: id })) if (overlaps(this.bridge(n.bridge), UPLINK_SUBNET)) throw this.uplinkClash(this.vm(id), this.bridge(n.bridge));
      const before = vms.map((id) => this.uplinkWant(id).present);
      b.uplink = on;
      const what = `${on ? 'enabling' : 'disabling'} the uplink of bridge "${b.name}"`;
      // Every running VM that gains or loses the NIC must take a hot-plug: check them all before any is changed.
      const changing = vms.filter((id, i) => this.uplinkWant(id).present !== before[i]).map((id) => this.vm(id));
      for (const v of changing) {
        if (v.runtime && !(await vmRunning(v.runtime.qmp))) {
          b.uplink = !on;
          throw new Error(`bridge "${b.name}": VM "${v.name}" is paused: resume it before ${what} (its guest takes the uplink NIC's hot-plug)`);
        }
      }
      for (const id of vms) await this.syncUplinkOf(id, what);
    });
  }

  /** Whether the bridge has its uplink on. */
  uplink(bridge: string): boolean {
    return this.bridge(bridge).uplink;
  }

  private uplinkWant(vm: string): UplinkWant {
    const on = this.nicsOf({ vm }).filter((n) => this.bridge(n.bridge).uplink);
    return { present: on.length > 0, up: on.some((n) => n.attached) };
  }

  private async syncUplinkOf(vm: string, what: string): Promise<void> {
    const v = this.vmsById.get(vm);
    if (v) await syncUplink(v, this.uplinkWant(vm), what, this.unplugTimeoutMs);
  }

  private uplinkClash(vm: Vm | undefined, b: Bridge): Error {
    return new Error(`${vm ? `VM "${vm.name}" cannot have an uplink: ` : ''}bridge "${b.name}" has subnet ${ipString(b.net)}/${b.prefix}, which overlaps the uplink's ${UPLINK_NET}; give the bridge another subnet`);
  }

  private get unplugTimeoutMs(): number {
    return this.opts.unplugTimeoutMs ?? 30_000;
  }
}
