/**
 * The network of one test file: its bridges, NICs and impairments, as one
 * @provium/net LabNetwork whose switches run in the run's network thread
 * (reached over a port the main thread connects), so a file stuck in Lua
 * never stalls its guests' traffic. Created with the file's first bridge and
 * closed when the file ends. VMs and bridges are known by ids unique in the
 * file: their names, prefixed by the sub-lab they belong to (`pair/a`).
 */
import { MessageChannel } from 'node:worker_threads';
import type { GuestAgentLike, LabNetwork, NetworkState, NicRecord } from '@provium/net';
import type { QemuProcess } from '@provium/qemu';
import type { HostServices } from '@provium/types';
import type { FileServices } from '../binding/registry.js';

/** A VM as the network knows it: its id in the file and its host name. */
export interface NetVm {
  netId: string;
  name: string;
}

/** How long a guest may take to let go of its unplugged uplink NIC, before --timeout-scale. */
export const UNPLUG_TIMEOUT_MS = 10_000;

export class FileNetwork {
  private net: Promise<LabNetwork> | undefined;
  private ready: LabNetwork | undefined;
  /** VMs that run: those started before the network exists join it when it is made (a bridge created after their boot). */
  private readonly running = new Map<string, { vm: NetVm; qemu: QemuProcess; agent: GuestAgentLike }>();

  constructor(
    private readonly host: HostServices,
    private readonly services: FileServices,
  ) {}

  /** The file's LabNetwork, created on first use. */
  get(): Promise<LabNetwork> {
    this.net ??= (async () => {
      const { LabNetwork, RemoteBackend } = await import('@provium/net');
      const { port1, port2 } = new MessageChannel();
      await this.host.netConnect(port2);
      const net = new LabNetwork(new RemoteBackend(port1), { unplugTimeoutMs: UNPLUG_TIMEOUT_MS * this.services.timeoutScale });
      this.services.onFileEnd(() => net.close());
      for (const { vm, qemu, agent } of this.running.values()) {
        net.addVm(vm.netId, { name: vm.name });
        await net.vmStarted(vm.netId, { qmp: qemu.qmp, agent }, { restored: true });
      }
      this.ready = net;
      return net;
    })();
    return this.net;
  }

  /** Whether the file has created its network (a bridge, a restored lab with bridges). */
  hasNetwork(): boolean {
    return this.ready !== undefined;
  }

  /** The `-netdev`/`-device` arguments of a VM's NICs for its boot (none when it is on no bridge). */
  launchArgs(vm: string): string[] {
    return this.ready?.launchArgs(vm) ?? [];
  }

  /**
   * The arguments of a VM's restore from a snapshot whose header lists the
   * NIC devices `recorded` (undefined: a snapshot from before they were
   * recorded, which had the VM's bridge NICs of the time and no uplink).
   * `label` names the VM in the error about a malformed list. `guestDigest`:
   * what the snapshot recorded of the guest's network configuration.
   */
  async restoreArgs(vm: NetVm, recorded: unknown, guestDigest: unknown, label: string): Promise<string[]> {
    if (!this.ready && (recorded === undefined || (Array.isArray(recorded) && recorded.length === 0))) return [];
    const net = await this.get();
    const { checkNicRecords } = await import('@provium/net');
    const devices = recorded === undefined ? net.nics(vm.netId).map((n) => ({ slot: n.slot, mac: n.mac })) : checkNicRecords(recorded, label);
    net.addVm(vm.netId, { name: vm.name });
    return net.restoreArgs(vm.netId, devices, typeof guestDigest === 'string' ? guestDigest : undefined);
  }

  /** What a snapshot of the VM records of its network: its NIC devices and what its guest holds of the configuration. */
  snapshotRecord(vm: string): { nics: NicRecord[]; guestNet?: string } {
    const digest = this.ready?.guestDigestOf(vm);
    return { nics: this.ready?.devices(vm) ?? [], ...(digest ? { guestNet: digest } : {}) };
  }

  /** Whether the VM has a NIC on that bridge. */
  nicOn(bridge: string, vm: string): boolean {
    return !!this.ready && this.ready.nics(vm).some((n) => n.bridge === bridge);
  }

  /** Whether the VM has a NIC on some bridge. */
  hasNics(vm: string): boolean {
    return !!this.ready && this.ready.nics(vm).length > 0;
  }

  /** A VM's QEMU and agent are up: NICs get their configuration (after a boot) or just their runtime (after a restore). */
  async started(vm: NetVm, qemu: QemuProcess, agent: GuestAgentLike, restored: boolean): Promise<void> {
    this.running.set(vm.netId, { vm, qemu, agent });
    if (!this.ready) return;
    // Known by its host name, not its id (`pair/a`): a VM on no bridge yet may be attached later.
    this.ready.addVm(vm.netId, { name: vm.name });
    await this.ready.vmStarted(vm.netId, { qmp: qemu.qmp, agent }, { restored });
  }

  stopped(vm: string): void {
    this.running.delete(vm);
    this.ready?.vmStopped(vm);
  }
}

/** An id moved from one prefix to another (lab.json keeps ids relative to the lab). */
export function moveId(x: string, from: string, to: string): string {
  return to + (x.startsWith(from) ? x.slice(from.length) : x);
}

/** A network state with every id moved from one prefix to another. */
export function renameState(state: NetworkState, from: string, to: string): NetworkState {
  const id = (x: string) => moveId(x, from, to);
  const ends = <T extends { from?: string; to?: string }>(r: T): T => ({ ...r, ...(r.from !== undefined ? { from: id(r.from) } : {}), ...(r.to !== undefined ? { to: id(r.to) } : {}) });
  return {
    version: state.version,
    bridges: state.bridges.map((b) => ({
      ...b,
      id: id(b.id),
      impairments: {
        partitions: b.impairments.partitions.map((d) => ({ from: id(d.from), to: id(d.to) })),
        isolated: b.impairments.isolated.map(id),
        latency: b.impairments.latency.map(ends),
        drop: b.impairments.drop.map(ends),
        ...(b.impairments.cutAll ? { cutAll: true as const } : {}),
        bandwidth: (b.impairments.bandwidth ?? []).map(ends),
      },
    })),
    vms: state.vms.map((v) => ({ ...v, id: id(v.id) })),
    nics: state.nics.map((n) => ({ ...n, bridge: id(n.bridge), vm: id(n.vm) })),
  };
}
