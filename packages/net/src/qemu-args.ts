/**
 * The QEMU side of a NIC: a `stream` netdev connected to the switch port and
 * a virtio-net-pci device with a fixed MAC and a fixed PCI slot. The same
 * device appears the same way whether it was on the launch line (cold) or
 * hot-plugged over QMP, so a snapshot taken after a hot-plug restores on a
 * launch line that carries the device cold.
 */
import { createHash } from 'node:crypto';
import { isMac, type MacString } from './frame.js';

/** PCI slots on pci.0 reserved for lab NICs. QEMU's own devices take the low slots automatically (0-2 today). */
export const NIC_FIRST_SLOT = 0x10;
export const NIC_LAST_SLOT = 0x1f;

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

/** QOM ids of the NIC in slot `slot`: unique in the VM and the same in every run. */
export function nicIds(slot: number): { netdev: string; device: string } {
  checkSlot(slot);
  const hex = slot.toString(16).padStart(2, '0');
  return { netdev: `pvnet${hex}`, device: `pvnic${hex}` };
}

function checkSlot(slot: number): void {
  if (!Number.isInteger(slot) || slot < NIC_FIRST_SLOT || slot > NIC_LAST_SLOT) {
    throw new Error(`NIC PCI slot must be from 0x${NIC_FIRST_SLOT.toString(16)} to 0x${NIC_LAST_SLOT.toString(16)}, got ${slot}`);
  }
}

function checkNic(nic: NicDevice): void {
  checkSlot(nic.slot);
  if (!isMac(nic.mac)) throw new Error(`NIC MAC must be lower-case xx:xx:xx:xx:xx:xx, got ${JSON.stringify(nic.mac)}`);
  if (!nic.socketPath) throw new Error('NIC has no switch socket');
}

/** QEMU option values separate keys with ',': a literal comma is written ',,'. */
const opt = (value: string) => value.replaceAll(',', ',,');

const slotHex = (slot: number) => `0x${slot.toString(16)}`;

/** `-netdev ... -device ...` for a NIC present from launch (boot or restore). */
export function coldNicArgs(nic: NicDevice): string[] {
  checkNic(nic);
  const ids = nicIds(nic.slot);
  return [
    '-netdev', `stream,id=${ids.netdev},server=off,addr.type=unix,addr.path=${opt(nic.socketPath)}`,
    // romfile= : no option ROM (nothing boots from the network); the hot-plugged device has none either.
    '-device', `virtio-net-pci,id=${ids.device},netdev=${ids.netdev},mac=${nic.mac},bus=pci.0,addr=${slotHex(nic.slot)},romfile=`,
  ];
}

/** The QMP commands that hot-plug the NIC: the same backend and device as coldNicArgs. */
export function hotplugCommands(nic: NicDevice): { netdevAdd: Record<string, unknown>; deviceAdd: Record<string, unknown> } {
  checkNic(nic);
  const ids = nicIds(nic.slot);
  return {
    netdevAdd: { type: 'stream', id: ids.netdev, server: false, addr: { type: 'unix', path: nic.socketPath } },
    deviceAdd: {
      driver: 'virtio-net-pci', id: ids.device, netdev: ids.netdev, mac: nic.mac, bus: 'pci.0', addr: slotHex(nic.slot), romfile: '',
    },
  };
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
