import type { ClassSpec } from '../schema-types.js';
import { fn, A } from './build.js';

export const snapshot: ClassSpec = {
  name: 'Snapshot',
  doc: 'A thin handle over one snapshot file (see the Snapshot reference page).',
  fields: [],
  methods: [
    fn('path', [], 'string', 'The on-disk path.', A),
    fn('size', [], 'integer', 'The file size in bytes; 0 once the file is gone.', A),
    fn('delete', [], 'nil', 'Best-effort delete; idempotent.', A),
  ],
};

export const labSnapshot: ClassSpec = {
  name: 'LabSnapshot',
  doc: 'A thin handle over a directory with one snapshot file per VM plus `lab.json`.',
  fields: [],
  methods: [
    fn('path', [], 'string', 'The on-disk directory.', A),
    fn('size', [], 'integer', 'Sum of the sizes of the files directly in the directory (not recursive); 0 once gone.', A),
    fn('delete', [], 'nil', 'Recursive, best-effort delete; idempotent.', A),
  ],
};
