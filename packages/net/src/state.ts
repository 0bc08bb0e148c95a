/** lab.json's view of a network, and the checks of one read back. */
import { parseIp } from './addr.js';
import type { Impairments } from './impairments.js';
import { NIC_FIRST_SLOT, NIC_LAST_SLOT } from './qemu-args.js';

/** lab.json's view of a network. */
export interface NetworkState {
  version: 1;
  /** `uplink`: NAT to the host's network is on (absent: off). */
  bridges: { id: string; name: string; subnet: string; seed: number; impairments: Impairments; uplink?: boolean }[];
  vms: { id: string; name: string }[];
  nics: { bridge: string; vm: string; mac: string; slot: number; address: string; attached: boolean; configured: boolean }[];
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
    if (b.uplink !== undefined && typeof b.uplink !== 'boolean') bad(`bridge "${b.id}": uplink must be true or false, got ${JSON.stringify(b.uplink)}`);
    bridges.add(b.id);
    const i = b.impairments;
    if (!Array.isArray(i.partitions) || !Array.isArray(i.isolated) || !Array.isArray(i.latency) || !Array.isArray(i.drop)) {
      bad(`bridge "${b.id}": impairments need partitions, isolated, latency and drop lists`);
    }
    if (i.bandwidth !== undefined && !Array.isArray(i.bandwidth)) bad(`bridge "${b.id}": impairments.bandwidth must be a list (or absent)`);
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
