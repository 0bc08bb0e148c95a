/** `vm:snapshot()`: the binding of the schema's Snapshot class. */
import type { Lua } from '@provium/types';
import { SnapshotHandle } from '../vm/snapshots.js';

export const snapshotBinding: Lua.SnapshotBinding = {
  is: (v) => v instanceof SnapshotHandle,
  receiver: 'snap',
  tostring: (sn) => `Snapshot(${sn.file})`,
  methods: {
    path: (sn) => sn.file,
    size: (sn) => sn.size(),
    delete: (sn) => sn.delete(),
  },
};
