/**
 * The NICs that are not a plain switch port.
 *
 * The uplink: QEMU's own user-mode network (slirp) behind a NIC in
 * UPLINK_SLOT: NAT to the host's networks, the host's own 127.0.0.1 as
 * UPLINK_GATEWAY and a DNS forwarder. It has no hostfwd, so nothing from
 * outside can open a connection to the guest, and no host socket listens for
 * it.
 *
 * A parked NIC: a device restored from a snapshot whose network is not here
 * (QEMU loads the device's state, so it must exist at the same slot). Its
 * netdev is a port of a hub of its own (hubid = the slot) beside a port with
 * no peer, the sink, which drops every frame: without it the hub could not
 * take the NIC's frames and QEMU would queue them and stall the NIC's
 * transmit queue for good (seen with QEMU 7.2). QEMU cannot give an existing
 * device another netdev (netdev_del leaves the old one behind the device;
 * netdev_add of the same id is not connected to it), so connecting a parked
 * NIC adds its real backend as a third port of the hub: `hubport,netdev=`.
 * A parked uplink NIC has that backend from launch, with no peer: the
 * user-mode network keeps state that a snapshot carries (QEMU refuses to
 * load a snapshot's `slirp` section without one), and no frame reaches it
 * until it is connected.
 */
import { isMac, type MacString } from './frame.js';
import { UPLINK_SLOT, deviceAddArgs, deviceArg, macFor, nicIds, type QmpLike } from './qemu-args.js';

/** The guest's side of the user-mode network (QEMU's defaults, spelled out). */
export const UPLINK_NET = '10.0.2.0/24';
export const UPLINK_GUEST = '10.0.2.15';
/** The host, as the guest sees it: its 127.0.0.1 included. */
export const UPLINK_GATEWAY = '10.0.2.2';
export const UPLINK_DNS = '10.0.2.3';

/** The uplink NIC's MAC: fixed per VM name (no bridge name contains ':', so it is no bridge NIC's). */
export const uplinkMac = (vm: string): MacString => macFor(vm, ':uplink');

/** netdev_add arguments of a user-mode network: no hostfwd, no IPv6 (lab NICs carry IPv4 only). */
function userNetdev(id: string): Record<string, unknown> {
  return { type: 'user', id, ipv6: false, net: UPLINK_NET, host: UPLINK_GATEWAY, dns: UPLINK_DNS };
}

function userArg(id: string): string {
  return `user,id=${id},ipv6=off,net=${UPLINK_NET},host=${UPLINK_GATEWAY},dns=${UPLINK_DNS}`;
}

function checkMac(mac: string): void {
  if (!isMac(mac)) throw new Error(`NIC MAC must be lower-case xx:xx:xx:xx:xx:xx, got ${JSON.stringify(mac)}`);
}

/** `-netdev user ... -device ...` for an uplink NIC present from launch. */
export function coldUplinkArgs(mac: string): string[] {
  checkMac(mac);
  return ['-netdev', userArg(nicIds(UPLINK_SLOT).netdev), '-device', deviceArg(UPLINK_SLOT, mac)];
}

/** Hot-plugs the uplink NIC: the same backend and device as coldUplinkArgs. */
export async function hotplugUplink(qmp: QmpLike, mac: string): Promise<void> {
  checkMac(mac);
  const ids = nicIds(UPLINK_SLOT);
  await qmp.execute('netdev_add', userNetdev(ids.netdev));
  try {
    await qmp.execute('device_add', deviceAddArgs(UPLINK_SLOT, mac));
  } catch (err) {
    await qmp.execute('netdev_del', { id: ids.netdev }).catch(() => {});
    throw err;
  }
}

/** A parked NIC on the launch line: the device on its hub, beside the sink; the uplink's with its user-mode network, unconnected. */
export function parkedNicArgs(slot: number, mac: string): string[] {
  checkMac(mac);
  const ids = nicIds(slot);
  return [
    '-netdev', `hubport,id=${ids.netdev},hubid=${slot}`, '-netdev', `hubport,id=${ids.sink},hubid=${slot}`,
    ...(slot === UPLINK_SLOT ? ['-netdev', userArg(ids.link)] : []),
    '-device', deviceArg(slot, mac),
  ];
}

/** Connects a parked NIC to a switch port's socket (a new `-netdev stream`), or the uplink's to its user-mode network, as a third port of its hub. */
export async function connectParked(qmp: QmpLike, slot: number, to: { socketPath: string } | 'uplink'): Promise<void> {
  const ids = nicIds(slot);
  if (to !== 'uplink') await qmp.execute('netdev_add', { type: 'stream', id: ids.link, server: false, addr: { type: 'unix', path: to.socketPath } });
  try {
    await qmp.execute('netdev_add', { type: 'hubport', id: ids.hub, hubid: slot, netdev: ids.link });
  } catch (err) {
    if (to !== 'uplink') await qmp.execute('netdev_del', { id: ids.link }).catch(() => {});
    throw err;
  }
}

/**
 * Unplugs the NIC in `slot`: the guest is asked to let go of the device
 * (ACPI hot-unplug), then its netdevs go (`parked`: the hub's three).
 * Resolves when QEMU reports the device deleted.
 */
export async function unplugNic(qmp: QmpLike, slot: number, opts: { parked: boolean; timeoutMs: number }): Promise<void> {
  const ids = nicIds(slot);
  const gone = qmp.waitForEvent('DEVICE_DELETED', (ev) => ev.data?.device === ids.device, opts.timeoutMs);
  gone.catch(() => {});
  await qmp.execute('device_del', { id: ids.device });
  await gone;
  for (const id of opts.parked ? [ids.netdev, ids.sink, ids.hub, ids.link] : [ids.netdev]) await qmp.execute('netdev_del', { id });
}

/** Whether the VM's vCPUs run (a paused guest cannot take a hot-plug). */
export async function vmRunning(qmp: QmpLike): Promise<boolean> {
  const status = await qmp.execute<{ running?: boolean } | undefined>('query-status');
  return status?.running !== false;
}
