/** `lab:snapshot()`: the binding of the schema's LabSnapshot class. */
import type { Lua } from '@provium/types';
import { LabSnapshotHandle } from '../vm/snapshots.js';

export const labSnapshotBinding: Lua.LabSnapshotBinding = {
  is: (v) => v instanceof LabSnapshotHandle,
  receiver: 'lab_snap',
  tostring: (sn) => `LabSnapshot(${sn.dir})`,
  methods: {
    path: (sn) => sn.dir,
    size: (sn) => sn.size(),
    delete: (sn) => sn.delete(),
  },
};
