/** `vm:disk(id)` and `vm:attach_disk()`: the binding of the schema's Disk class. */
import type { Lua } from '@provium/types';
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
    fault_inject: (d, [mode]) => d.disk.injectFault(mode),
    clear_faults: (d) => d.disk.faults.clear(),
    active_faults: (d) => [...d.disk.faults].sort(),
    // Never raises (the sheet): the unplug is best effort, and a dead or stopped VM has nothing to unplug.
    detach: async (d) => {
      await d.vm.session.detachDisk(d.id).catch(() => {});
    },
    is_detached: (d) => d.vm.session.disks.isDetached(d.id),
    fail_reads: async (d) => d.disk.changePolicy({ op: 'fail_reads', on: true }),
    fail_writes: async (d) => d.disk.changePolicy({ op: 'fail_writes', on: true }),
    fail_after: async (d, [n]) => d.disk.changePolicy({ op: 'fail_after', n }),
    fail_range: async (d, [sector, count]) => d.disk.changePolicy({ op: 'fail_range', sector, count }),
    delay: async (d, [ms]) => d.disk.changePolicy({ op: 'delay', ms }),
    clear_policy: async (d) => d.disk.changePolicy({ op: 'clear' }),
    fault_policy: async (d) => d.disk.requireMediated().policy(),
    power_cut: async (d) => d.disk.requireMediated().powerCut(),
  },
};
