/**
 * The QEMU side of a NIC: a `stream` netdev connected to the switch port and
 * a virtio-net-pci device with a fixed MAC and a fixed PCI slot. The same
 * device appears the same way whether it was on the launch line (cold) or
 * hot-plugged over QMP, so a snapshot taken after a hot-plug restores on a
 * launch line that carries the device cold.
 */
import { createHash } from 'node:crypto';
import { isMac, type MacString } from './frame.js';

/** PCI slots on pci.0 for bridge NICs. QEMU's own devices take the low slots automatically (0-2 today), disks 0x04-0x0f. */
export const NIC_FIRST_SLOT = 0x10;
export const NIC_LAST_SLOT = 0x1e;
/** The uplink NIC's slot (qemu-devices.ts): a VM has at most one, whatever the number of uplinked bridges it is on. */
export const UPLINK_SLOT = 0x1f;

/** What QEMU needs to know about one NIC. */
export interface NicDevice {
  slot: number;
  mac: MacString;
  /** The switch port's socket. */
  socketPath: string;
}

/** Interface to a QMP connection (QemuProcess.qmp of @provium/qemu). */
export interface QmpLike {
  execute<T = unknown>(command: string, args?: Record<string, unknown>): Promise<T>;
  /** The next event `name` for which `predicate` holds (register before the command that causes it). */
  waitForEvent(name: string, predicate: (ev: { data?: Record<string, unknown> }) => boolean, timeoutMs: number): Promise<unknown>;
}

/**
 * A locally administered unicast MAC derived from the VM's and the bridge's
 * names: the same VM on the same bridge gets the same MAC in every run (and in
 * every restored copy). `attempt` > 0 picks another one after a clash.
 */
export function macFor(vm: string, bridge: string, attempt = 0): MacString {
  const h = createHash('sha256').update(`${vm}\0${bridge}\0${attempt}`).digest();
  return ['02', ...[...h.subarray(0, 5)].map((b) => b.toString(16).padStart(2, '0'))].join(':');
}

/**
 * QOM ids of the NIC in slot `slot`: unique in the VM and the same in every
 * run. `sink`, `hub` and `link` are the extra netdevs of a parked NIC
 * (qemu-devices.ts).
 */
export function nicIds(slot: number): { netdev: string; device: string; sink: string; hub: string; link: string } {
  checkSlot(slot);
  const hex = slot.toString(16).padStart(2, '0');
  return { netdev: `pvnet${hex}`, device: `pvnic${hex}`, sink: `pvsnk${hex}`, hub: `pvhub${hex}`, link: `pvlnk${hex}` };
}

function checkSlot(slot: number): void {
  if (!Number.isInteger(slot) || slot < NIC_FIRST_SLOT || slot > UPLINK_SLOT) {
    throw new Error(`NIC PCI slot must be from 0x${NIC_FIRST_SLOT.toString(16)} to 0x${UPLINK_SLOT.toString(16)}, got ${slot}`);
  }
}

function checkNic(nic: NicDevice): void {
  checkSlot(nic.slot);
  if (!isMac(nic.mac)) throw new Error(`NIC MAC must be lower-case xx:xx:xx:xx:xx:xx, got ${JSON.stringify(nic.mac)}`);
  if (!nic.socketPath) throw new Error('NIC has no switch socket');
}

/** QEMU option values separate keys with ',': a literal comma is written ',,'. */
const opt = (value: string) => value.replaceAll(',', ',,');

export const slotHex = (slot: number) => `0x${slot.toString(16)}`;

/** The virtio-net-pci device of slot `slot` on the launch line; the hot-plugged one (device_add) has the same properties. */
export function deviceArg(slot: number, mac: string): string {
  // romfile= : no option ROM (nothing boots from the network); the hot-plugged device has none either.
  return `virtio-net-pci,id=${nicIds(slot).device},netdev=${nicIds(slot).netdev},mac=${mac},bus=pci.0,addr=${slotHex(slot)},romfile=`;
}

/** device_add's arguments for the device of deviceArg(). */
export function deviceAddArgs(slot: number, mac: string): Record<string, unknown> {
  const ids = nicIds(slot);
  return { driver: 'virtio-net-pci', id: ids.device, netdev: ids.netdev, mac, bus: 'pci.0', addr: slotHex(slot), romfile: '' };
}

/** `-netdev ... -device ...` for a NIC present from launch (boot or restore). */
export function coldNicArgs(nic: NicDevice): string[] {
  checkNic(nic);
  const ids = nicIds(nic.slot);
  return ['-netdev', `stream,id=${ids.netdev},server=off,addr.type=unix,addr.path=${opt(nic.socketPath)}`, '-device', deviceArg(nic.slot, nic.mac)];
}

/** The QMP commands that hot-plug the NIC: the same backend and device as coldNicArgs. */
export function hotplugCommands(nic: NicDevice): { netdevAdd: Record<string, unknown>; deviceAdd: Record<string, unknown> } {
  checkNic(nic);
  const ids = nicIds(nic.slot);
  return { netdevAdd: { type: 'stream', id: ids.netdev, server: false, addr: { type: 'unix', path: nic.socketPath } }, deviceAdd: deviceAddArgs(nic.slot, nic.mac) };
}

/** Hot-plugs the NIC into a running QEMU (netdev_add, then device_add; the netdev is removed again if the device fails). */
export async function hotplugNic(qmp: QmpLike, nic: NicDevice): Promise<void> {
  const { netdevAdd, deviceAdd } = hotplugCommands(nic);
  await qmp.execute('netdev_add', netdevAdd);
  try {
    await qmp.execute('device_add', deviceAdd);
  } catch (err) {
    await qmp.execute('netdev_del', { id: netdevAdd.id }).catch(() => {});
    throw err;
  }
}

/** Cable in or out as the guest sees it (carrier): QMP set_link on the NIC's device. */
export async function setNicLink(qmp: QmpLike, slot: number, up: boolean): Promise<void> {
  await qmp.execute('set_link', { name: nicIds(slot).device, up });
}
