/**
 * A VM's NIC devices beyond its plain bridge NICs: its uplink NIC and its
 * parked NICs (qemu-devices.ts), and which devices a restore launches QEMU
 * with. A restore must launch the snapshot's devices at their slots (QEMU
 * loads their state): a NIC the VM still has (same slot and MAC) is
 * launched on its bridge, the uplink NIC on the user-mode network if the VM
 * is still on an uplinked bridge, and every other device parked. NICs the
 * snapshot lacks are hot-plugged once the guest runs.
 */
import { runGuestScript } from './guest.js';
import { uplinkDownScript, uplinkUpScript } from './guest-uplink.js';
import type { Nic, Uplink, Vm, VmRuntime } from './lab-base.js';
import type { NicRecord } from './nic-records.js';
import { NIC_FIRST_SLOT, NIC_LAST_SLOT, UPLINK_SLOT, setNicLink } from './qemu-args.js';
import { coldUplinkArgs, connectParked, hotplugUplink, parkedNicArgs, unplugNic, uplinkMac, vmRunning } from './qemu-devices.js';

/** What a VM's bridges ask of its uplink: the NIC (on an uplinked bridge) and its cable in (attached to one). */
export interface UplinkWant {
  present: boolean;
  up: boolean;
}

const freshUplink = (v: Vm): Uplink => ({ mac: uplinkMac(v.name), plugged: false, configured: false, viaHub: false, linkUp: undefined });

/** Sets the uplink of a VM that is not running to what its next launch should have. */
export function uplinkForLaunch(v: Vm, want: UplinkWant): void {
  if (!want.present) v.uplink = undefined;
  else v.uplink ??= freshUplink(v);
}

/** The launch arguments of the VM's parked NICs and, with `uplink`, of its uplink NIC. */
export function extraLaunchArgs(v: Vm, uplink: boolean): string[] {
  return [...(uplink && v.uplink ? coldUplinkArgs(v.uplink.mac) : []), ...v.parked.flatMap((p) => parkedNicArgs(p.slot, p.mac))];
}

/** The lowest bridge NIC slot that none of `nics` (but `except`) and no parked NIC of `v` takes; the error names the VM. */
export function freeSlot(v: Vm, nics: Nic[], except?: Nic): number {
  const used = new Set([...nics.filter((n) => n !== except).map((n) => n.slot), ...v.parked.map((p) => p.slot)]);
  for (let slot = NIC_FIRST_SLOT; slot <= NIC_LAST_SLOT; slot++) if (!used.has(slot)) return slot;
  throw new Error(`VM "${v.name}" has no free PCI slot for another NIC: ${used.size} NICs take slots 0x${NIC_FIRST_SLOT.toString(16)}-0x${NIC_LAST_SLOT.toString(16)} (parked ones included); it can be on no more bridges`);
}

/**
 * Decides the devices of a restore of `v` from `recorded` (the snapshot's):
 * sets `plugged` on the NICs and the uplink launched with QEMU, parks the
 * rest, and moves NICs that the snapshot lacks out of its slots. Returns the
 * NICs to launch on their bridges.
 */
export function planRestore(v: Vm, nics: Nic[], recorded: NicRecord[], want: UplinkWant): Nic[] {
  v.planned = true;
  v.parked = [];
  uplinkForLaunch(v, want);
  for (const n of nics) n.plugged = false;
  if (v.uplink) Object.assign(v.uplink, { plugged: false, viaHub: false, linkUp: undefined });
  const cold: Nic[] = [];
  for (const r of recorded) {
    const n = r.uplink ? undefined : nics.find((x) => x.slot === r.slot && x.mac === r.mac);
    if (n) {
      n.plugged = true;
      cold.push(n);
    } else if (r.uplink && v.uplink) {
      // The guest was configured for the uplink when the snapshot was taken; every uplink looks the same to it.
      Object.assign(v.uplink, { mac: r.mac, plugged: true, configured: true });
    } else {
      v.parked.push({ ...r, scrub: r.uplink === true });
    }
  }
  for (const n of nics) if (!n.plugged && recorded.some((r) => r.slot === n.slot)) n.slot = freeSlot(v, nics, n);
  return cold;
}

async function requireRunning(v: Vm, rt: VmRuntime, what: string): Promise<void> {
  if (!(await vmRunning(rt.qmp))) throw new Error(`VM "${v.name}" is paused: resume it before ${what} (its guest takes the uplink NIC's hot-plug)`);
}

/**
 * Brings a running VM's uplink to `want`: hot-plugs the NIC (or connects a
 * parked uplink NIC) and configures the guest, or takes the guest's settings
 * out and unplugs it; sets its cable; scrubs what parked NICs left in the
 * guest. `what` names the operation in errors.
 */
export async function syncUplink(v: Vm, want: UplinkWant, what: string, unplugTimeoutMs: number): Promise<void> {
  const rt = v.runtime;
  if (!rt) return uplinkForLaunch(v, want);
  const label = `VM "${v.name}"`;
  const qmpStep = async (doing: string, op: () => Promise<void>) => {
    try {
      await op();
    } catch (err) {
      throw new Error(`${label}: ${doing} failed (${what}): ${(err as Error).message}`);
    }
  };
  const u = v.uplink;
  if (!want.present && u) {
    if (u.plugged) {
      await requireRunning(v, rt, what);
      await runGuestScript(rt.agent, uplinkDownScript(), `${label}: removing the uplink's route and nameserver`);
      await qmpStep('unplugging its uplink NIC (the guest must let go of it)', () => unplugNic(rt.qmp, UPLINK_SLOT, { parked: u.viaHub, timeoutMs: unplugTimeoutMs }));
    }
    v.uplink = undefined;
  } else if (want.present && !u?.plugged) {
    await requireRunning(v, rt, what);
    const parked = v.parked.find((p) => p.uplink);
    if (parked) {
      await qmpStep('connecting its parked uplink NIC', () => connectParked(rt.qmp, UPLINK_SLOT, 'uplink'));
      v.parked = v.parked.filter((p) => p !== parked);
      v.uplink = { mac: parked.mac, plugged: true, configured: false, viaHub: true, linkUp: undefined };
    } else {
      const mac = u?.mac ?? uplinkMac(v.name);
      await qmpStep('hot-plugging its uplink NIC', () => hotplugUplink(rt.qmp, mac));
      v.uplink = { mac, plugged: true, configured: false, viaHub: false, linkUp: true };
    }
  }
  const now = v.uplink;
  if (now) {
    if (now.linkUp !== want.up) {
      await setNicLink(rt.qmp, UPLINK_SLOT, want.up);
      now.linkUp = want.up;
    }
    if (!now.configured) {
      await runGuestScript(rt.agent, uplinkUpScript(now.mac), `${label}: configuring the uplink in the guest`);
      now.configured = true;
    }
  }
  for (const p of v.parked.filter((x) => x.uplink && x.scrub)) {
    await runGuestScript(rt.agent, uplinkDownScript(p.mac), `${label}: removing the route and nameserver of the uplink it was snapshotted with`);
    p.scrub = false;
  }
}

/** The VM's devices as a snapshot records them, by slot. */
export function deviceRecords(v: Vm, nics: Nic[], bridgeName: (id: string) => string): NicRecord[] {
  return [
    ...nics.filter((n) => n.plugged).map((n) => ({ slot: n.slot, mac: n.mac, bridge: bridgeName(n.bridge) })),
    ...(v.uplink?.plugged ? [{ slot: UPLINK_SLOT, mac: v.uplink.mac, uplink: true as const }] : []),
    ...v.parked.map(({ scrub: _scrub, ...r }) => r),
  ].sort((a, b) => a.slot - b.slot);
}
