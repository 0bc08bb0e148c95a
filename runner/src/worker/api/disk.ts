/** `vm:disk(id)` and `vm:attach_disk()`: the binding of the schema's Disk class. */
import type { Lua } from '@provium/types';
import { FAULT_MODES, type FaultMode } from '../vm/disks.js';
import { DiskRef } from '../vm/handles.js';

export const diskBinding: Lua.DiskBinding = {
  is: (v) => v instanceof DiskRef,
  receiver: 'disk',
  tostring: (d) => `Disk(${d.id} of ${d.vm.session.name})`,
  methods: {
    id: (d) => d.id,
    size: (d) => d.disk.size(),
    read_sectors: async (d, [sector, count]) => d.disk.readSectors(sector, count),
    write_sectors: async (d, [sector, data]) => d.disk.writeSectors(sector, data),
    fault_inject: (d, [mode]) => {
      if (!(FAULT_MODES as readonly string[]).includes(mode)) throw new Error(`unknown fault mode "${mode}"; the modes are ${FAULT_MODES.map((m) => `"${m}"`).join(', ')}`);
      d.disk.faults.add(mode as FaultMode);
    },
    clear_faults: (d) => d.disk.faults.clear(),
    active_faults: (d) => [...d.disk.faults].sort(),
    detach: async (d) => {
      await d.vm.session.detachDisk(d.id);
    },
    is_detached: (d) => d.vm.session.disks.handles.get(d.id)?.detached === true,
    fail_reads: async (d) => void (await d.disk.requireMediated().failReads()),
    fail_writes: async (d) => void (await d.disk.requireMediated().failWrites()),
    fail_after: async (d, [n]) => void (await d.disk.requireMediated().failAfter(n)),
    fail_range: async (d, [sector, count]) => void (await d.disk.requireMediated().failRange(sector, count)),
    delay: async (d, [ms]) => void (await d.disk.requireMediated().delay(ms)),
    clear_policy: async (d) => void (await d.disk.requireMediated().clearPolicy()),
    fault_policy: async (d) => d.disk.requireMediated().policy(),
    power_cut: async (d) => d.disk.requireMediated().powerCut(),
  },
};
