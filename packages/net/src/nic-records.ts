/**
 * The NIC devices of a VM as its snapshot records them (the `nics` of the
 * snapshot header's VM description): a restore must launch QEMU with the
 * same devices at the same PCI slots, since it loads their state.
 */
import { isMac } from './frame.js';
import { NIC_FIRST_SLOT, UPLINK_SLOT } from './qemu-args.js';

export interface NicRecord {
  slot: number;
  mac: string;
  /** The name of the bridge the NIC was made for (absent on the uplink NIC). */
  bridge?: string;
  /** The uplink NIC. */
  uplink?: true;
}

/** `value` (read back from a snapshot file) as NIC records; the error names the snapshot and what is wrong. */
export function checkNicRecords(value: unknown, where: string): NicRecord[] {
  const bad = (msg: string): never => {
    throw new Error(`${where}: the snapshot's NIC list ${msg}; take the snapshot again`);
  };
  if (!Array.isArray(value)) bad(`is not a list (${JSON.stringify(value)})`);
  const slots = new Set<number>();
  return (value as unknown[]).map((v) => {
    const r = v as Partial<NicRecord>;
    if (!r || typeof r !== 'object' || !Number.isInteger(r.slot) || r.slot! < NIC_FIRST_SLOT || r.slot! > UPLINK_SLOT) bad(`has an entry with a bad PCI slot: ${JSON.stringify(v)}`);
    if (typeof r.mac !== 'string' || !isMac(r.mac)) bad(`has an entry with a bad MAC: ${JSON.stringify(v)}`);
    if ((r.uplink === true) !== (r.slot === UPLINK_SLOT) || (r.bridge !== undefined && typeof r.bridge !== 'string')) bad(`has a malformed entry: ${JSON.stringify(v)}`);
    if (slots.has(r.slot!)) bad(`has two NICs in PCI slot ${r.slot}`);
    slots.add(r.slot!);
    return { slot: r.slot!, mac: r.mac!, ...(r.bridge !== undefined ? { bridge: r.bridge } : {}), ...(r.uplink ? { uplink: true as const } : {}) };
  });
}
